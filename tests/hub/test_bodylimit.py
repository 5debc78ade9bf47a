"""hub.bodylimit: a body over the limit is refused, declared or chunked; others pass."""

import http.client
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hub.bodylimit import BodyLimit
from turnout.local_broker import free_port


async def echo_length(request):
    return PlainTextResponse(str(len(await request.body())))


def test_bodies_over_the_limit_are_refused_whether_declared_or_sent_in_chunks():
    app = BodyLimit(Starlette(routes=[Route("/", echo_length, methods=["POST"])]), limit=1000)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.05)

        def post(body, chunked=False):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            if chunked:
                conn.request("POST", "/", body=iter([body[i:i + 300] for i in range(0, len(body), 300)]),
                             encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
            else:
                conn.request("POST", "/", body=body)
            answer = conn.getresponse()
            return answer.status, answer.read()

        assert post(b"x" * 1000) == (200, b"1000")
        assert post(b"x" * 1001)[0] == 413
        assert post(b"x" * 900, chunked=True) == (200, b"900")
        assert post(b"x" * 5000, chunked=True)[0] == 413
    finally:
        server.should_exit = True
        thread.join(10)
