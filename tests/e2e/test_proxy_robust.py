"""End-to-end robustness tests of `aftershock proxy`: many connections, toxic churn under traffic, failing upstreams."""
import os
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import free_port, stop_process

CONNECTIONS = 5000

# An epoll echo server for thousands of connections; prints its port, then serves until killed.
ECHO_SERVER = r'''
import selectors, socket, sys
sel = selectors.DefaultSelector()
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(4096)
listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ)
print(listener.getsockname()[1], flush=True)
while True:
    for key, _ in sel.select():
        if key.fileobj is listener:
            while True:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    break
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
            continue
        conn = key.fileobj
        try:
            data = conn.recv(65536)
        except ConnectionError:
            data = b""
        if not data:
            sel.unregister(conn)
            conn.close()
            continue
        conn.sendall(data)
'''


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def settled_fds(server):
    """The proxy's open fd count once API connections from earlier requests have closed."""
    previous = -1
    for _ in range(100):
        current = server.fd_count()
        if current == previous:
            return current
        previous = current
        time.sleep(0.1)
    return previous


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


@pytest.fixture
def many_fds():
    """Raise this process's soft open-file limit to the hard limit for the test's duration."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2 * CONNECTIONS + 200:
        pytest.fail(f"the hard open-file limit {hard} is below {2 * CONNECTIONS + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def echo_process(many_fds):
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield port
    stop_process(proc)


def open_connections(port, count, batch=500):
    """Open count connections in batches; returns the connected sockets."""
    socks = []
    for start in range(0, count, batch):
        sel = selectors.DefaultSelector()
        pending = []
        for _ in range(min(batch, count - start)):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE)
            pending.append(s)
        connected = 0
        deadline = time.monotonic() + 60
        while connected < len(pending) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                assert err == 0, os.strerror(err)
                sel.unregister(key.fileobj)
                connected += 1
        assert connected == len(pending)
        sel.close()
        socks.extend(pending)
    return socks


def echo_all(socks):
    """Send a distinct message on every socket and check each echo; returns the failures."""
    sel = selectors.DefaultSelector()
    expected = {}
    for i, s in enumerate(socks):
        message = b"conn-%05d;" % i
        s.setblocking(True)
        s.sendall(message)
        s.setblocking(False)
        expected[s] = [message, b""]
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + 120
    while expected and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            chunk = s.recv(100)
            want = expected[s]
            want[1] += chunk
            if not chunk or len(want[1]) >= len(want[0]):
                sel.unregister(s)
                if want[1] == want[0]:
                    del expected[s]
    sel.close()
    return len(expected)


def test_5000_concurrent_connections_without_fd_leak(proxy_server, echo_process):
    port = proxy_server.create("many", f"127.0.0.1:{echo_process}")
    fds_before = settled_fds(proxy_server)

    socks = open_connections(port, CONNECTIONS)
    try:
        assert echo_all(socks) == 0
        status, metrics, _ = proxy_server.request("GET", "/metrics")
        open_line = [line for line in metrics.splitlines()
                     if line.startswith("aftershock_proxy_connections_open{")]
        assert open_line[0].endswith(f" {CONNECTIONS}")
        assert proxy_server.fd_count() >= fds_before + 2 * CONNECTIONS
    finally:
        for s in socks:
            s.close()

    assert wait_until(lambda: proxy_server.fd_count() == fds_before), \
        f"{proxy_server.fd_count()} fds open, {fds_before} before"
    assert proxy_server.request("GET", "/version")[0] == 200


class Stream(threading.Thread):
    """Streams a byte pattern through an echo proxy and checks every byte that comes back."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.stop = threading.Event()
        self.echoed = 0
        self.error = None

    def run(self):
        pattern = bytes(range(256)) * 64
        try:
            while not self.stop.is_set():
                self.sock.sendall(pattern)
                received = b""
                while len(received) < len(pattern):
                    chunk = self.sock.recv(len(pattern) - len(received))
                    if not chunk:
                        raise AssertionError("the stream closed")
                    received += chunk
                if received != pattern:
                    raise AssertionError("the stream lost or reordered bytes")
                self.echoed += len(received)
        except (OSError, AssertionError) as e:
            self.error = e


TOXICS = [
    {"type": "latency", "attributes": {"latency": 1, "jitter": 1}},
    {"type": "bandwidth", "attributes": {"rate": 100000}},
    {"type": "slicer", "attributes": {"average_size": 4096, "size_variation": 1024, "delay": 10}},
    {"type": "noop", "attributes": {}},
    {"type": "limit_data", "attributes": {"bytes": 1 << 40}},
    {"type": "slow_close", "attributes": {"delay": 10}},
]


def test_1000_toxic_cycles_while_streaming(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("churn", upstream.address)
    streams = [Stream(port) for _ in range(2)]
    for stream in streams:
        stream.start()
    try:
        for i in range(1000):
            toxic = dict(TOXICS[i % len(TOXICS)], name="churn",
                         stream="upstream" if i % 2 else "downstream")
            status, body, _ = proxy_server.request("POST", "/proxies/churn/toxics", toxic)
            assert status == 200, body
            status, body, _ = proxy_server.request("DELETE", "/proxies/churn/toxics/churn")
            assert status == 204, body
        echoed = [s.echoed for s in streams]
        time.sleep(0.2)
        assert all(s.echoed > e for s, e in zip(streams, echoed)), "a stream stalled"
    finally:
        for stream in streams:
            stream.stop.set()
            stream.join(30)
    for stream in streams:
        assert stream.error is None, stream.error
        assert stream.echoed > 0


def test_upstream_down_at_connect(proxy_server, tcp_server):
    dead = free_port()
    port = proxy_server.create("dead", f"127.0.0.1:{dead}")
    fds_before = settled_fds(proxy_server)
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(10)
            try:
                assert s.recv(10) == b""
            except ConnectionResetError:
                pass
    assert wait_until(lambda: proxy_server.fd_count() == fds_before)
    assert "cannot connect upstream" in proxy_server.log()
    assert proxy_server.request("GET", "/proxies/dead")[0] == 200


def test_upstream_closing_mid_stream(proxy_server, tcp_server):
    payload = os.urandom(300_000)

    def send_then_close(conn):
        conn.recv(10)
        conn.sendall(payload)
    upstream = tcp_server(send_then_close)
    port = proxy_server.create("closing", upstream.address)
    proxy_server.add_toxic("closing", "latency", {"latency": 50})
    fds_before = settled_fds(proxy_server)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"go")
        received = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received == payload
    assert wait_until(lambda: proxy_server.fd_count() == fds_before)


def test_half_close_keeps_the_other_direction(proxy_server, tcp_server):
    def reply_after_eof(conn):
        request = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            request += chunk
        conn.sendall(b"got " + request)
    upstream = tcp_server(reply_after_eof)
    port = proxy_server.create("half", upstream.address)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"question")
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            answer += chunk
    assert answer == b"got question"


def test_upstream_reset_reaches_client(proxy_server, tcp_server):
    import struct

    def reset(conn):
        conn.recv(10)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    upstream = tcp_server(reset)
    port = proxy_server.create("rst", upstream.address)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"x")
        with pytest.raises(ConnectionResetError):
            s.recv(10)
