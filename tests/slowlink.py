"""A slow uplink between a client and a real broker: what a client sends arrives late.

Venue wi-fi and a loaded hub both delay packets; this makes the delay certain, so a test can
show that a client does not act as if the broker already had what it sent. Bytes from the
broker come back at once; bytes to it wait ``delay`` seconds, in order.
"""

from __future__ import annotations

import socket
import threading
import time


class SlowLink:
    def __init__(self, broker_port: int, delay: float):
        self.broker_port = broker_port
        self.delay = delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            broker = socket.create_connection(("127.0.0.1", self.broker_port))
            self._sockets += [client, broker]
            threading.Thread(target=self._pump, args=(client, broker, self.delay), daemon=True).start()
            threading.Thread(target=self._pump, args=(broker, client, 0.0), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, delay: float) -> None:
        try:
            while chunk := source.recv(65536):
                due = time.monotonic() + delay
                time.sleep(max(0.0, due - time.monotonic()))
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
