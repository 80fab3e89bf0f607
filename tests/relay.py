"""A loopback TCP relay in front of a server, for outage tests: clients are given the relay's
port; ``cut()`` stops listening and resets every open connection (new ones are refused), and
``restore()`` listens again on the same port, so clients that kept the address reach the
server again without being told.

Threads: one accepts; one per connection copies bytes both ways until either side ends or a
cut wakes it (it closes its own sockets, so no socket is closed under a thread using it).
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from contextlib import suppress

#: How often the acceptor looks whether it should stop.
_ACCEPT_POLL_S = 0.05
#: Binding the same port again may briefly fail while the kernel lets go of it.
_REBIND_DEADLINE_S = 10.0
#: SO_LINGER on, zero seconds: close() sends RST, as a crashed server or a cut cable would.
_RESET = struct.pack("ii", 1, 0)


class Relay:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self._target = (host, target_port)
        self._host = host
        self.port = 0
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._stop = threading.Event()
        self._acceptor: threading.Thread | None = None
        #: Readable while a cut is under way: every connection's thread then resets it.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.cuts = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self._host}:{self.port}"

    def __enter__(self) -> Relay:
        self.restore()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cut()
        self._wake_r.close()
        self._wake_w.close()

    def restore(self) -> None:
        """Listen (again, on the same port once it has one)."""
        if self._acceptor is not None:
            return
        self._settle()
        listener = self._listen()
        self.port = listener.getsockname()[1]
        self._stop = threading.Event()
        self._acceptor = threading.Thread(
            target=self._accept, args=(listener, self._stop), name="relay-accept", daemon=True
        )
        self._acceptor.start()

    def cut(self, wait: bool = True) -> None:
        """Stop listening and reset every open connection; returns once none is relayed.

        ``wait=False`` returns at once, for a client that cuts its own connection: it must
        go on reading to meet the reset (a relay blocked writing to it cannot see the cut)."""
        if self._acceptor is not None:
            self._stop.set()
            self._acceptor.join()  # it closes the listener: new connections are refused
            self._acceptor = None
            self.cuts += 1
            self._wake_w.send(b"x")
        if wait:
            self._settle()

    def _settle(self) -> None:
        """Wait for every connection of the last cut to end, then quiet the wake-up."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()
        with suppress(BlockingIOError):
            self._wake_r.recv(16)

    def _listen(self) -> socket.socket:
        deadline = time.monotonic() + _REBIND_DEADLINE_S
        while True:
            try:
                # create_server sets SO_REUSEADDR: the port is free again at once after a cut.
                listener = socket.create_server((self._host, self.port))
                break
            except OSError:
                if not self.port or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        listener.settimeout(_ACCEPT_POLL_S)
        return listener

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        with listener:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.setblocking(True)
                try:
                    server = socket.create_connection(self._target, timeout=10)
                except OSError:
                    _reset(client)
                    continue
                server.settimeout(None)
                thread = threading.Thread(
                    target=self._relay, args=(client, server), name="relay-conn", daemon=True
                )
                with self._lock:
                    self._threads.add(thread)
                thread.start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        other = {client: server, server: client}
        cut = False
        try:
            while not cut:
                ready, _, _ = select.select([client, server, self._wake_r], [], [])
                cut = self._wake_r in ready
                for sock in ready if not cut else ():
                    data = sock.recv(1 << 16)
                    if not data:
                        return
                    other[sock].sendall(data)
        except OSError:
            cut = True  # one side failed: the other learns it the same way
        finally:
            for sock in (client, server):
                if cut:
                    _reset(sock)
                else:
                    sock.close()
            with self._lock:
                self._threads.discard(threading.current_thread())


def _reset(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    sock.close()
