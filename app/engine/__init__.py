"""Pure-NumPy CNN engine: im2col/col2im, layers with forward and backward, optimisers.

It imports nothing from the web layer, Pillow or the file system.
"""

from .im2col import col2im, im2col
from .shapes import OutputLength, ShapeError, conv_output_length, conv_output_shape

__all__ = [
    "OutputLength",
    "ShapeError",
    "col2im",
    "conv_output_length",
    "conv_output_shape",
    "im2col",
]
