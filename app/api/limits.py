"""ASGI middleware that protects the workers: body size and body-read time, plus safe headers.

The size is enforced while the body streams in, so an oversized upload is refused after
`max_body_bytes`, never held whole in memory; a Content-Length that is already too large is
refused before a byte is read.
"""

from __future__ import annotations

import asyncio
import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float):
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_json(send, 400, "Content-Length is not a number")
                return
            if int(declared) > self.max_bytes:
                await _send_json(send, 413, self._too_large(int(declared)))
                return
        received, body_done = 0, False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # what is left to hear is the client leaving, whenever it does
                return await receive()  # (a streamed answer listens for it all along)
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise HTTPException(
                    408, f"the request body did not arrive within {self.timeout:g} s"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise HTTPException(413, self._too_large(received))
            return message

        await self.app(scope, limited_receive, send)

    def _too_large(self, size: int) -> str:
        return f"request body of {size} bytes or more is over the limit of {self.max_bytes} bytes"


class SecurityHeadersMiddleware:
    """nosniff, no referrer, no framing, and a CSP without inline script on every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = PAGE_CSP.encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", csp),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
