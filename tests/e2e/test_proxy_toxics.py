"""End-to-end tests of each toxic through real traffic on loopback, with the accuracy the proxy promises."""
import socket
import statistics
import threading
import time

import pytest


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def sender(payload, then_close=True):
    """A handler that sends payload at once, then closes (or waits for the client to close)."""
    def handle(conn):
        conn.sendall(payload)
        if not then_close:
            while conn.recv(65536):
                pass
    return handle


def receive_all(sock, timeout=30):
    """Read until EOF; returns (bytes, list of (monotonic time, chunk size))."""
    sock.settimeout(timeout)
    data, arrivals = bytearray(), []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(data), arrivals
        arrivals.append((time.monotonic(), len(chunk)))
        data += chunk


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def echo_rtt(sock, payload=b"x"):
    start = time.monotonic()
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        assert chunk, "connection closed during an echo"
        received += chunk
    assert received == payload
    return time.monotonic() - start


@pytest.fixture
def echo_proxy(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("echo", upstream.address)
    return proxy_server, port


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_latency_within_jitter_plus_5ms(echo_proxy, stream):
    server, port = echo_proxy
    latency_ms, jitter_ms = 60, 10
    server.add_toxic("echo", "latency", {"latency": latency_ms, "jitter": jitter_ms}, stream=stream)
    with connect(port) as s:
        samples = [echo_rtt(s) * 1000 for _ in range(30)]
    # Each round trip crosses the toxic once; the rest of the trip is well under a millisecond.
    assert min(samples) >= latency_ms - jitter_ms - 1
    assert abs(statistics.median(samples) - latency_ms) <= jitter_ms + 5
    within = [x for x in samples if abs(x - latency_ms) <= jitter_ms + 5]
    assert len(within) >= 0.8 * len(samples), samples


def test_latency_applies_per_chunk_from_arrival(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "latency", {"latency": 200})
    delays_a, delays_b = [], []
    with connect(port) as s:
        s.settimeout(5)
        for _ in range(5):
            sent_a = time.monotonic()
            s.sendall(b"a")
            time.sleep(0.1)
            sent_b = time.monotonic()
            s.sendall(b"b")
            assert s.recv(1) == b"a"
            delays_a.append(time.monotonic() - sent_a)
            assert s.recv(1) == b"b"
            delays_b.append(time.monotonic() - sent_b)
    # Each chunk waits 200 ms from its own arrival, so "b" is not held behind "a" for longer.
    assert abs(statistics.median(delays_a) - 0.2) <= 0.005
    assert abs(statistics.median(delays_b) - 0.2) <= 0.005


def measured_rate(arrivals):
    """Bytes per second after the first chunk, from the first arrival to the last."""
    (t0, _), (t1, _) = arrivals[0], arrivals[-1]
    return sum(size for _, size in arrivals[1:]) / (t1 - t0)


def test_bandwidth_downstream_within_5_percent(proxy_server, tcp_server):
    payload = bytes(range(256)) * 6000  # 1.536 MB
    upstream = tcp_server(sender(payload))
    port = proxy_server.create("bw", upstream.address)
    proxy_server.add_toxic("bw", "bandwidth", {"rate": 500})
    with connect(port) as s:
        data, arrivals = receive_all(s)
    assert data == payload
    assert abs(measured_rate(arrivals) - 500_000) <= 0.05 * 500_000


def test_bandwidth_upstream_within_5_percent(proxy_server, tcp_server):
    payload = bytes(range(256)) * 4000  # 1.024 MB
    arrivals, received = [], bytearray()

    def sink(conn):
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            arrivals.append((time.monotonic(), len(chunk)))
            received.extend(chunk)
    upstream = tcp_server(sink)
    port = proxy_server.create("bw", upstream.address)
    proxy_server.add_toxic("bw", "bandwidth", {"rate": 1000}, stream="upstream")
    with connect(port) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
        assert s.recv(1) == b""
    assert bytes(received) == payload
    assert abs(measured_rate(arrivals) - 1_000_000) <= 0.05 * 1_000_000


@pytest.mark.parametrize("limit", [0, 1, 1000, 4095])
def test_limit_data_closes_after_exact_bytes(proxy_server, tcp_server, limit):
    payload = b"0123456789" * 1000
    upstream = tcp_server(sender(payload, then_close=False))
    port = proxy_server.create("lim", upstream.address)
    proxy_server.add_toxic("lim", "limit_data", {"bytes": limit})
    with connect(port) as s:
        data, _ = receive_all(s)
    assert data == payload[:limit]


def test_limit_data_upstream(proxy_server, tcp_server):
    got = []
    done = threading.Event()

    def sink(conn):
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        got.append(data)
        done.set()
    upstream = tcp_server(sink)
    port = proxy_server.create("lim", upstream.address)
    proxy_server.add_toxic("lim", "limit_data", {"bytes": 777}, stream="upstream")
    with connect(port) as s:
        s.sendall(b"z" * 5000)
        s.settimeout(10)
        assert s.recv(10) == b""
    assert done.wait(10)
    assert got == [b"z" * 777]


def test_timeout_closes_after_set_time(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "timeout", {"timeout": 300})
    with connect(port) as s:
        start = time.monotonic()
        s.sendall(b"held")
        data, _ = receive_all(s, timeout=10)
        elapsed = time.monotonic() - start
    assert data == b""
    assert elapsed >= 0.3


def test_timeout_zero_holds_until_removed(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "timeout", {"timeout": 0})
    with connect(port) as s:
        s.sendall(b"held")
        s.settimeout(0.5)
        with pytest.raises(socket.timeout):
            s.recv(10)
        server.remove_toxic("echo", "timeout_downstream")
        data, _ = receive_all(s, timeout=10)
    assert data == b""


def test_reset_peer_resets_client(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "reset_peer", {"timeout": 100})
    with connect(port) as s:
        s.settimeout(10)
        start = time.monotonic()
        s.sendall(b"x")
        assert s.recv(10) == b"x"
        with pytest.raises(ConnectionResetError):
            s.recv(10)
        assert time.monotonic() - start >= 0.1


def test_reset_peer_spares_undrawn_connections(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "reset_peer", {"timeout": 0}, toxicity=0.5)
    conns, reset, alive = [], 0, 0
    for _ in range(40):
        try:
            conns.append(connect(port))
        except ConnectionResetError:
            # The reset can come before connect() returns to a slow client.
            reset += 1
    time.sleep(0.3)
    for s in conns:
        try:
            s.settimeout(5)
            assert echo_rtt(s, b"ok") >= 0
            alive += 1
        except (ConnectionResetError, BrokenPipeError):
            reset += 1
        s.close()
    assert alive > 0
    assert reset > 0
    assert alive + reset == 40


def test_slicer_delivers_same_bytes_in_more_pieces(proxy_server, tcp_server):
    payload = bytes(range(256)) * 8
    upstream = tcp_server(sender(payload))
    port = proxy_server.create("slice", upstream.address)
    with connect(port) as s:
        plain, plain_arrivals = receive_all(s)
    proxy_server.add_toxic("slice", "slicer", {"average_size": 16, "size_variation": 8, "delay": 2000})
    with connect(port) as s:
        sliced, sliced_arrivals = receive_all(s)
    assert plain == payload
    assert sliced == payload
    assert len(sliced_arrivals) >= 3 * len(plain_arrivals)
    assert len(sliced_arrivals) >= 2048 // 24


def test_slow_close_delays_the_close(proxy_server, tcp_server):
    upstream = tcp_server(sender(b"bye"))
    port = proxy_server.create("slow", upstream.address)
    proxy_server.add_toxic("slow", "slow_close", {"delay": 300})
    with connect(port) as s:
        data, arrivals = receive_all(s)
        closed = time.monotonic()
    assert data == b"bye"
    assert closed - arrivals[0][0] >= 0.3


@pytest.mark.parametrize("toxic", [
    {"type": "reset_peer", "attributes": {"timeout": 0}},
    {"type": "timeout", "attributes": {"timeout": 0}},
    {"type": "limit_data", "attributes": {"bytes": 0}},
])
def test_toxicity_zero_never_fires(echo_proxy, toxic):
    server, port = echo_proxy
    server.add_toxic("echo", toxic["type"], toxic["attributes"], toxicity=0)
    for i in range(100):
        with connect(port) as s:
            s.settimeout(10)
            assert echo_rtt(s, b"conn %d" % i) >= 0


def test_toxics_chain_in_insertion_order(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "latency", {"latency": 40}, name="first")
    server.add_toxic("echo", "latency", {"latency": 40}, name="second")
    server.add_toxic("echo", "limit_data", {"bytes": 3}, name="third")
    status, toxics, _ = server.request("GET", "/proxies/echo/toxics")
    assert [t["name"] for t in toxics] == ["first", "second", "third"]
    with connect(port) as s:
        start = time.monotonic()
        s.sendall(b"abcdef")
        data, _ = receive_all(s)
        elapsed = time.monotonic() - start
    assert data == b"abc"
    assert elapsed >= 0.08


def test_toxic_added_and_removed_on_open_connection(echo_proxy):
    server, port = echo_proxy
    with connect(port) as s:
        s.settimeout(10)
        before = echo_rtt(s)
        server.add_toxic("echo", "latency", {"latency": 150})
        during = echo_rtt(s)
        server.remove_toxic("echo", "latency_downstream")
        after = echo_rtt(s)
    assert during >= 0.15
    assert before < 0.15
    assert after < 0.15


def test_removing_latency_releases_held_bytes(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "latency", {"latency": 60000})
    with connect(port) as s:
        s.sendall(b"waiting")
        time.sleep(0.2)
        server.remove_toxic("echo", "latency_downstream")
        s.settimeout(10)
        assert s.recv(100) == b"waiting"


def test_update_changes_open_connections(echo_proxy):
    server, port = echo_proxy
    server.add_toxic("echo", "latency", {"latency": 10})
    with connect(port) as s:
        s.settimeout(10)
        assert echo_rtt(s) < 0.15
        status, _, _ = server.request("PATCH", "/proxies/echo/toxics/latency_downstream",
                                      {"attributes": {"latency": 200}})
        assert status == 200
        assert echo_rtt(s) >= 0.2
