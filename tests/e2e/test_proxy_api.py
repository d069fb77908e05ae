"""End-to-end tests of the `aftershock proxy` HTTP API: proxies, toxics, populate, guards, signals, verbs."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import ProxyServer, free_port


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def roundtrip(port, payload=b"ping", host="127.0.0.1", timeout=5):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_proxy_lifecycle(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("echo", upstream.address)
    assert roundtrip(port) == b"ping"

    status, listed, headers = proxy_server.request("GET", "/proxies")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert listed["echo"] == {"name": "echo", "listen": f"127.0.0.1:{port}",
                              "upstream": upstream.address, "enabled": True, "toxics": []}

    status, shown, _ = proxy_server.request("GET", "/proxies/echo")
    assert status == 200
    assert shown == listed["echo"]

    status, body, _ = proxy_server.request("DELETE", "/proxies/echo")
    assert status == 204
    assert body is None
    status, body, _ = proxy_server.request("GET", "/proxies/echo")
    assert status == 404
    assert body == {"error": "proxy not found", "status": 404}
    with pytest.raises(ConnectionRefusedError):
        roundtrip(port)


def test_proxy_create_errors(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    proxy_server.create("a", upstream.address)

    status, body, _ = proxy_server.request("POST", "/proxies", {"name": "a", "upstream": upstream.address})
    assert (status, body) == (409, {"error": "proxy already exists", "status": 409})
    status, body, _ = proxy_server.request("POST", "/proxies", {"upstream": upstream.address})
    assert (status, body) == (400, {"error": "missing required field: name", "status": 400})
    status, body, _ = proxy_server.request("POST", "/proxies", {"name": "b"})
    assert (status, body) == (400, {"error": "missing required field: upstream", "status": 400})
    status, body, _ = proxy_server.request("POST", "/proxies", raw="{not json")
    assert status == 400
    assert body["error"].startswith("bad request body: ")
    for path in ("/proxies/nope", "/proxies/nope/toxics", "/proxies/nope/toxics/t"):
        status, body, _ = proxy_server.request("GET", path)
        assert (status, body) == (404, {"error": "proxy not found", "status": 404})


def test_proxy_bind_failure_names_address(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        status, body, _ = proxy_server.request(
            "POST", "/proxies", {"name": "x", "listen": f"127.0.0.1:{port}", "upstream": upstream.address})
    finally:
        taken.close()
    assert status == 500
    assert body["error"] == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
    assert proxy_server.request("GET", "/proxies/x")[0] == 404


def test_proxy_update_rebinds_and_keeps_fields(proxy_server, tcp_server):
    first, second = tcp_server(echo), tcp_server(lambda c: c.sendall(b"second"))
    old_port = proxy_server.create("p", first.address)
    new_port = free_port()

    status, body, _ = proxy_server.request("PATCH", "/proxies/p", {"listen": f"127.0.0.1:{new_port}"})
    assert status == 200
    assert body["upstream"] == first.address
    assert body["listen"] == f"127.0.0.1:{new_port}"
    assert body["enabled"] is True
    assert roundtrip(new_port) == b"ping"
    with pytest.raises(ConnectionRefusedError):
        roundtrip(old_port)

    status, body, _ = proxy_server.request("POST", "/proxies/p", {"upstream": second.address})
    assert status == 200
    assert body["listen"] == f"127.0.0.1:{new_port}"
    assert roundtrip(new_port, b"xxxxxx") == b"second"

    status, body, _ = proxy_server.request("PATCH", "/proxies/p", {"name": "renamed"})
    assert status == 400
    assert "cannot be renamed" in body["error"]


def test_proxy_disable_closes_listener_and_connections(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("p", upstream.address)
    open_conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    open_conn.sendall(b"a")
    assert open_conn.recv(10) == b"a"

    status, body, _ = proxy_server.request("POST", "/proxies/p", {"enabled": False})
    assert status == 200
    assert body["enabled"] is False
    assert open_conn.recv(10) == b""
    open_conn.close()
    with pytest.raises(ConnectionRefusedError):
        roundtrip(port)

    status, body, _ = proxy_server.request("POST", "/proxies/p", {"enabled": True})
    assert status == 200
    assert roundtrip(port) == b"ping"


def test_populate_validates_first_and_keeps_unchanged(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("keep", upstream.address)
    proxy_server.add_toxic("keep", "latency", {"latency": 1})
    entries = [{"name": "keep", "listen": f"127.0.0.1:{port}", "upstream": upstream.address},
               {"name": "new", "listen": "127.0.0.1:0", "upstream": upstream.address}]

    status, body, _ = proxy_server.request("POST", "/populate", entries + [{"name": "bad"}])
    assert status == 400
    assert body["error"] == "missing required field: upstream at proxy 3"
    assert proxy_server.request("GET", "/proxies/new")[0] == 404

    status, body, _ = proxy_server.request("POST", "/populate", entries)
    assert status == 201
    assert [p["name"] for p in body["proxies"]] == ["keep", "new"]
    assert [t["name"] for t in body["proxies"][0]["toxics"]] == ["latency_downstream"]
    new_port = int(body["proxies"][1]["listen"].rsplit(":", 1)[1])
    assert roundtrip(new_port) == b"ping"

    # A changed upstream replaces the proxy, and its toxics go with the old one.
    status, body, _ = proxy_server.request(
        "POST", "/populate", [{"name": "keep", "listen": f"127.0.0.1:{port}", "upstream": f"127.0.0.1:{free_port()}"}])
    assert status == 201
    assert body["proxies"][0]["toxics"] == []


def test_reset_enables_and_clears(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("p", upstream.address)
    proxy_server.add_toxic("p", "timeout", {"timeout": 0})
    proxy_server.request("POST", "/proxies/p", {"enabled": False})

    status, body, _ = proxy_server.request("POST", "/reset")
    assert (status, body) == (204, None)
    status, shown, _ = proxy_server.request("GET", "/proxies/p")
    assert shown["enabled"] is True
    assert shown["toxics"] == []
    assert roundtrip(port) == b"ping"


def test_toxic_crud(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    proxy_server.create("p", upstream.address)

    status, toxic, _ = proxy_server.request("POST", "/proxies/p/toxics", {"type": "latency", "attributes": {"latency": 5}})
    assert status == 200
    assert toxic == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                     "toxicity": 1.0, "attributes": {"latency": 5, "jitter": 0}}
    status, body, _ = proxy_server.request("POST", "/proxies/p/toxics", {"type": "latency"})
    assert (status, body) == (409, {"error": "toxic already exists", "status": 409})
    proxy_server.add_toxic("p", "bandwidth", {"rate": 100}, stream="upstream", name="bw", toxicity=0.5)

    status, toxics, _ = proxy_server.request("GET", "/proxies/p/toxics")
    assert status == 200
    assert [t["name"] for t in toxics] == ["bw", "latency_downstream"]

    status, updated, _ = proxy_server.request("PATCH", "/proxies/p/toxics/bw", {"attributes": {"rate": 200}})
    assert status == 200
    assert updated["attributes"] == {"rate": 200}
    assert updated["toxicity"] == 0.5
    status, shown, _ = proxy_server.request("GET", "/proxies/p/toxics/bw")
    assert shown == updated

    status, body, _ = proxy_server.request("DELETE", "/proxies/p/toxics/bw")
    assert (status, body) == (204, None)
    for method in ("GET", "DELETE", "PATCH"):
        status, body, _ = proxy_server.request(method, "/proxies/p/toxics/bw", {} if method == "PATCH" else None)
        assert (status, body) == (404, {"error": "toxic not found", "status": 404})


@pytest.mark.parametrize("toxic,words", [
    ({"type": "latency", "latency": 100}, "belongs inside 'attributes'"),
    ({"type": "latency", "attributes": {"latncy": 1}}, "unknown attribute 'latncy'"),
    ({"type": "latency", "attributes": {"latency": -5}}, "must not be negative"),
    ({"type": "bandwidth", "attributes": {"rate": 0}}, "'rate' must be at least 1"),
    ({"type": "slicer", "attributes": {"average_size": 0}}, "'average_size' must be at least 1"),
    ({"type": "noop", "toxicity": 1.01}, "'toxicity' must be between 0 and 1"),
    ({"type": "noop", "toxicity": -1}, "'toxicity' must be between 0 and 1"),
    ({"type": "nonsense"}, "invalid toxic type"),
    ({"type": "noop", "stream": "both"}, "stream was invalid, can be either upstream or downstream"),
])
def test_toxic_nonsense_rejected(proxy_server, tcp_server, toxic, words):
    upstream = tcp_server(echo)
    proxy_server.create("p", upstream.address)
    status, body, _ = proxy_server.request("POST", "/proxies/p/toxics", toxic)
    assert status == 400
    assert body["status"] == 400
    assert words in body["error"]
    assert proxy_server.request("GET", "/proxies/p/toxics")[1] == []


def test_version_and_metrics(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    port = proxy_server.create("m", upstream.address)
    proxy_server.add_toxic("m", "noop")
    for _ in range(3):
        assert roundtrip(port, b"12345") == b"12345"

    status, body, headers = proxy_server.request("GET", "/version")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"version"}

    labels = f'listener="127.0.0.1:{port}",proxy="m",upstream="{upstream.address}"'
    assert wait_until(lambda: f"aftershock_proxy_connections_open{{{labels}}} 0" in proxy_server.request("GET", "/metrics")[1])
    status, text, headers = proxy_server.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    assert f'toxiproxy_proxy_received_bytes_total{{direction="upstream",{labels}}} 15' in text
    assert f'toxiproxy_proxy_sent_bytes_total{{direction="downstream",{labels}}} 15' in text
    assert f"aftershock_proxy_connections_total{{{labels}}} 3" in text
    assert f"aftershock_proxy_toxics_active{{{labels}}} 1" in text


def test_browser_user_agent_forbidden(proxy_server):
    status, body, _ = proxy_server.request("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0 (X11; Linux)"})
    assert (status, body) == (403, "User agent not allowed\n")
    assert proxy_server.request("GET", "/proxies", headers={"User-Agent": "curl/8.0"})[0] == 200


def test_oversized_body_rejected(proxy_server):
    status, _, _ = proxy_server.request("POST", "/proxies", raw="[" + " " * (1024 * 1024 + 10) + "]")
    assert status == 413
    assert proxy_server.request("GET", "/proxies")[0] == 200


def raw_exchange(server, data, timeout=5):
    """Send raw bytes to the API, half-close, and return what came back."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may reject and close before reading everything
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            pass
        return received


MALFORMED = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "headers cut short": b"GET /proxies HTTP/1.1\r\nHost: x\r\n",
    "body shorter than its length": b"POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"name\": \"a\"",
    "truncated JSON": b"POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"name\": \"a",
    "invalid content length": b"POST /proxies/p/toxics HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n{}",
    "100 kB path": b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n",
    "70 kB header": b"GET /proxies HTTP/1.1\r\nX: " + b"h" * 70000 + b"\r\n\r\n",
    "binary noise": b"\x00\x01\x02\xff" * 100,
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_requests_leave_api_working(proxy_server, data):
    before = proxy_server.fd_count()
    response = raw_exchange(proxy_server, data)
    assert not response.startswith(b"HTTP/1.1 2")
    assert proxy_server.request("GET", "/version")[0] == 200
    assert wait_until(lambda: proxy_server.fd_count() == before)
    assert proxy_server.proc.poll() is None


def test_invalid_json_gets_error_body(proxy_server, tcp_server):
    upstream = tcp_server(echo)
    proxy_server.create("p", upstream.address)
    for raw in ('{"type": "latency"', '{"type": "latency"} trailing', '{"type": "a", "type": "b"}', ""):
        status, body, _ = proxy_server.request("POST", "/proxies/p/toxics", raw=raw)
        assert status == 400
        assert body["error"].startswith("bad request body: ")


def test_localhost_listens_and_connects_on_both_families(proxy_server, tcp_server):
    v4, v6 = tcp_server(echo, "127.0.0.1"), tcp_server(lambda c: c.sendall(b"six!"), "::1")
    port4 = proxy_server.create("to-v4", f"localhost:{v4.port}", listen="localhost:0")
    port6 = proxy_server.create("to-v6", f"localhost:{v6.port}", listen="localhost:0")

    assert roundtrip(port4, b"ping", host="127.0.0.1") == b"ping"
    assert roundtrip(port4, b"ping", host="::1") == b"ping"
    assert roundtrip(port6, b"xxxx", host="127.0.0.1") == b"six!"
    assert roundtrip(port6, b"xxxx", host="::1") == b"six!"


def test_config_file_and_reload(tmp_path, tcp_server):
    upstream = tcp_server(echo)
    config = tmp_path / "proxies.json"
    first_port, second_port = free_port(), free_port()
    config.write_text(json.dumps([{"name": "one", "listen": f"127.0.0.1:{first_port}", "upstream": upstream.address}]))
    server = ProxyServer(tmp_path, "--config", config)
    try:
        assert roundtrip(first_port) == b"ping"
        config.write_text(json.dumps([{"name": "two", "listen": f"127.0.0.1:{second_port}", "upstream": upstream.address}]))
        os.kill(server.pid, signal.SIGHUP)
        assert wait_until(lambda: server.request("GET", "/proxies")[1].keys() == {"two"})
        assert roundtrip(second_port) == b"ping"

        config.write_text("[{")
        os.kill(server.pid, signal.SIGHUP)
        assert wait_until(lambda: "reload failed" in server.log())
        assert server.request("GET", "/proxies")[1].keys() == {"two"}
    finally:
        server.stop()


def test_invalid_config_exits_2(aftershock, tmp_path):
    config = tmp_path / "bad.json"
    config.write_text('[{"name": "x"}]')
    result = aftershock("proxy", "--port", "0", "--config", config)
    assert result.returncode == 2
    assert "missing required field: upstream at proxy 1" in result.stderr


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_stop_signals_exit_zero(tmp_path, tcp_server, signo):
    upstream = tcp_server(echo)
    server = ProxyServer(tmp_path)
    port = server.create("p", upstream.address)
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.sendall(b"x")
    assert conn.recv(1) == b"x"
    os.kill(server.pid, signo)
    assert server.proc.wait(timeout=10) == 0
    assert conn.recv(10) == b""
    conn.close()


def test_api_port_in_use_exits_3(aftershock):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        result = aftershock("proxy", "--port", taken.getsockname()[1])
    finally:
        taken.close()
    assert result.returncode == 3
    assert "address already in use" in result.stderr


def test_client_verbs(aftershock, proxy_server, tcp_server):
    upstream = tcp_server(echo)
    proxy_server.create("web", upstream.address)
    api = ["--api", proxy_server.url]

    result = aftershock("proxy", "add-toxic", "web", "--type", "latency", "-a", "latency=20",
                        "-a", "jitter=2", "--stream", "upstream", *api)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "added toxic 'latency_upstream' (latency, upstream) to proxy 'web'\n"

    result = aftershock("proxy", "list", *api)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split() == ["NAME", "LISTEN", "UPSTREAM", "ENABLED", "TOXICS"]
    assert result.stdout.splitlines()[1].split()[::3] == ["web", "true"]
    assert result.stdout.splitlines()[1].split()[-1] == "1"

    result = aftershock("proxy", "toxics", "web", *api)
    assert result.returncode == 0
    assert result.stdout.splitlines()[1].split() == ["latency_upstream", "latency", "upstream", "1",
                                                     "latency=20", "jitter=2"]
    result = aftershock("proxy", "toxics", "web", "--json", *api)
    assert json.loads(result.stdout)[0]["attributes"] == {"latency": 20, "jitter": 2}

    result = aftershock("proxy", "remove-toxic", "web", "latency_upstream", *api)
    assert result.returncode == 0
    assert proxy_server.request("GET", "/proxies/web/toxics")[1] == []

    result = aftershock("proxy", "remove-toxic", "web", "latency_upstream", *api)
    assert result.returncode == 2
    assert "toxic not found" in result.stderr

    proxy_server.request("POST", "/proxies/web", {"enabled": False})
    result = aftershock("proxy", "reset", *api)
    assert result.returncode == 0
    assert proxy_server.request("GET", "/proxies/web")[1]["enabled"] is True


def test_client_verb_errors(aftershock):
    result = aftershock("proxy", "list", "--api", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 3
    assert "cannot reach the proxy API" in result.stderr
    result = aftershock("proxy", "explode")
    assert result.returncode == 2
    assert "unknown verb 'explode'" in result.stderr
    result = aftershock("proxy", "add-toxic", "web", "--api", "http://127.0.0.1:1")
    assert result.returncode == 2
    assert "add-toxic needs --type" in result.stderr
    result = aftershock("proxy", "list", "--port", "9")
    assert result.returncode == 2
    result = aftershock("proxy", "add-toxic", "web", "--type", "latency", "-a", "latency")
    assert result.returncode == 2
    assert "KEY=WHOLE_NUMBER" in result.stderr
