"""One bound on every request body the hub reads (forms, uploads, the API).

Starlette reads a form whole, and spools a file part to disk however long it is; a declared
Content-Length can be left out (chunked uploads). ``BodyLimit`` refuses a body over the limit
whether it was declared or is only found out while reading, with a 413.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest thing a person sends is a baked badge image (a few tens of kilobytes; /verify takes 2 MB).
MAX_BODY = 4 * 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received, started, refused = 0, False, False

        async def bounded_receive() -> Message:
            # Over the limit: answer 413 at once, then tell the app the client has gone, so it
            # stops reading; whatever it then tries to send is dropped.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit and not started:
                    refused = True
                    await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except Exception:
            if not refused:
                raise

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("Request body too large", status_code=413)(scope, receive, send)
