"""Images in and out: decoding uploads safely, MNIST-style preprocessing, arrays to PNG.

Pillow is used by decode.py and preprocess.py only; render.py writes its PNGs itself (zlib).
The web layer calls no Pillow function: it passes the Pillow image that open_image gives back
into these functions (app/api/inputs.py imports Pillow only to name that type).
"""
