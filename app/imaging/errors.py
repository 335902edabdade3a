"""The one error the imaging package raises for input a client sent."""

from __future__ import annotations


class ImageInputError(ValueError):
    """An image or pixel array the server cannot use.

    status_code follows HTTP so the web layer can pass it straight on: 400 bad or corrupt data,
    413 too large, 415 unsupported type, 422 unusable content (e.g. an empty canvas).
    detail is one human sentence naming the problem.
    """

    def __init__(self, status_code: int, detail: str):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
