"""Images in and out: decoding uploads safely, MNIST-style preprocessing, arrays to PNG.

The web layer calls these functions and never needs Pillow itself.
"""
