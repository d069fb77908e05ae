"""End-to-end tests of `aftershock probe` against real servers on loopback."""
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import free_port, stop_process

# A small HTTP server for these tests. It prints its port, responds with a
# configurable status and body (503 until --ready-after seconds have passed),
# and appends one JSON line per request with the path and headers to --log.
SERVER_SOURCE = r'''
import argparse, json, socket, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--bind", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--status", type=int, default=200)
parser.add_argument("--body", default="ok\n")
parser.add_argument("--ready-after", type=float, default=0.0)
parser.add_argument("--location")
parser.add_argument("--log")
parser.add_argument("--cert")
parser.add_argument("--key")
args = parser.parse_args()
started = time.monotonic()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        ready = time.monotonic() - started >= args.ready_after
        status = args.status if ready else 503
        body = (args.body if ready else "starting\n").encode()
        if args.log:
            with lock, open(args.log, "a") as log:
                log.write(json.dumps({"path": self.path, "status": status,
                                      "headers": [[k, v] for k, v in self.headers.items()]}) + "\n")
        self.send_response(status)
        if args.location:
            self.send_header("Location", args.location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *unused):
        pass


class Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    daemon_threads = True


server = Server((args.bind, args.port), Handler)
if args.cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    # The handshake runs in each request's thread, so a client that rejects
    # the certificate cannot stall the accept loop for the next attempt.
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
print(server.server_address[1], flush=True)
server.serve_forever()
'''


class ProbeServer:
    """One run of SERVER_SOURCE in a subprocess, with its request log."""

    def __init__(self, tmp_path, name="server", bind="127.0.0.1", port=0, **options):
        script = tmp_path / "probe_test_server.py"
        script.write_text(SERVER_SOURCE)
        self.log = tmp_path / f"{name}.log"
        command = [sys.executable, str(script), "--bind", bind, "--port", str(port),
                   "--log", str(self.log)]
        for key, value in options.items():
            command += ["--" + key.replace("_", "-"), str(value)]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.port = int(self.proc.stdout.readline())
        self.bind = bind
        host = f"[{bind}]" if ":" in bind else bind
        self.url = f"http://{host}:{self.port}"

    def requests(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def servers(tmp_path):
    """Starts ProbeServers on demand and stops them after the test."""
    started = []

    def start(name=None, **options):
        server = ProbeServer(tmp_path, name=name or f"server{len(started)}", **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def tcp_listener():
    """A plain TCP listener on 127.0.0.1 that accepts connections and closes them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def closed_port():
    """A port with nothing listening on 127.0.0.1 or ::1 (free when chosen)."""
    return free_port()


def parse_json(result):
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


# --- http targets -------------------------------------------------------------------------

def test_probe_http_healthy(aftershock, servers):
    server = servers()
    result = aftershock("probe", server.url + "/health")
    assert result.returncode == 0, result.stderr
    assert f"{server.url}/health: healthy after 1 attempt in" in result.stdout
    assert [r["path"] for r in server.requests()] == ["/health"]


def test_probe_http_status_range_accepts(aftershock, servers):
    server = servers(status=204)
    result = aftershock("probe", "--status", "200-299", server.url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_http_status_exact_rejects(aftershock, servers):
    server = servers(status=204)
    result = aftershock("probe", "--status", "200", "--timeout", "2", server.url)
    assert result.returncode == 1
    assert "still unhealthy" in result.stdout
    assert "status 204" in result.stdout
    assert "expected 200" in result.stdout


def test_probe_http_server_error_unhealthy_by_default(aftershock, servers):
    server = servers(status=500)
    result = aftershock("probe", "--timeout", "2", server.url)
    assert result.returncode == 1
    assert "status 500" in result.stdout
    assert "expected 200-399" in result.stdout


def test_probe_http_redirect_not_followed(aftershock, servers):
    elsewhere = servers(name="elsewhere")
    server = servers(status=302, location=elsewhere.url + "/moved")
    result = aftershock("probe", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(server.requests()) == 1
    # A probe sends traffic only to its own target, never to a redirect's.
    assert elsewhere.requests() == []


def test_probe_http_body_regex_matches(aftershock, servers):
    server = servers(body='{"status": "ok", "db": "up"}')
    result = aftershock("probe", "--body-regex", r'"status":\s*"ok"', server.url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_http_body_regex_mismatch(aftershock, servers):
    server = servers(body='{"status": "degraded"}')
    result = aftershock("probe", "--timeout", "2", "--body-regex", r'"status":\s*"ok"',
                        server.url)
    assert result.returncode == 1
    assert "does not match" in result.stdout
    assert r'"status":\s*"ok"' in result.stdout


def test_probe_http_headers_sent(aftershock, servers):
    server = servers()
    result = aftershock("probe", "--header", "X-Probe-Token: abc123", "-H", "Accept: text/plain",
                        server.url + "/ready")
    assert result.returncode == 0, result.stderr
    (request,) = server.requests()
    assert ["X-Probe-Token", "abc123"] in request["headers"]
    assert ["Accept", "text/plain"] in request["headers"]


def test_probe_http_header_value_not_printed(aftershock, servers):
    server = servers(status=500)
    result = aftershock("probe", "--timeout", "2", "--json", "-H", "Authorization: Bearer s3cret",
                        server.url)
    assert result.returncode == 1
    assert ["Authorization", "Bearer s3cret"] in server.requests()[0]["headers"]
    assert "s3cret" not in result.stdout
    assert "s3cret" not in result.stderr


def test_probe_url_password_not_printed(aftershock, servers):
    server = servers(status=500)
    url = f"http://user:hunter2@127.0.0.1:{server.port}/"
    result = aftershock("probe", "--timeout", "2", url)
    assert result.returncode == 1
    assert "hunter2" not in result.stdout
    assert "hunter2" not in result.stderr
    assert f"127.0.0.1:{server.port}" in result.stdout


def test_probe_http_attempt_timeout(aftershock):
    # A listener that never accepts: connections complete in the backlog,
    # but no response ever arrives.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        result = aftershock("probe", "--attempt-timeout", "0.3", "--timeout", "1", "--json",
                            f"http://127.0.0.1:{port}/")
    assert result.returncode == 1
    (target,) = parse_json(result)["targets"]
    assert target["attempts"] >= 2
    assert "timed out after" in target["last_error"]
    assert f"127.0.0.1:{port}" in target["last_error"]


def test_probe_http_refused(aftershock):
    port = closed_port()
    result = aftershock("probe", "--timeout", "2", f"http://127.0.0.1:{port}/")
    assert result.returncode == 1
    assert f"connection refused by 127.0.0.1:{port}" in result.stdout


@pytest.fixture
def tls_files(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_probe_https_self_signed_needs_insecure(aftershock, servers, tls_files):
    cert, key = tls_files
    server = servers(cert=cert, key=key)
    url = f"https://127.0.0.1:{server.port}/"
    # A generous deadline: under load the first handshake can take longer than 0.5 s.
    rejected = aftershock("probe", "--timeout", "3", url)
    assert rejected.returncode == 1
    assert "TLS" in rejected.stdout
    accepted = aftershock("probe", "--insecure", url)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


# --- tcp and exec targets ----------------------------------------------------------------

def test_probe_tcp_healthy(aftershock, tcp_listener):
    result = aftershock("probe", f"tcp://127.0.0.1:{tcp_listener}")
    assert result.returncode == 0, result.stderr
    assert f"tcp://127.0.0.1:{tcp_listener}: healthy after 1 attempt" in result.stdout


def test_probe_long_interval_raises_cap(aftershock, tcp_listener):
    # --interval above the default --max-interval of 3 s, given alone, is not a contradiction.
    result = aftershock("probe", "--interval", "5s", f"tcp://127.0.0.1:{tcp_listener}")
    assert result.returncode == 0, result.stderr
    assert f"tcp://127.0.0.1:{tcp_listener}: healthy after 1 attempt" in result.stdout


def test_probe_tcp_refused(aftershock):
    port = closed_port()
    result = aftershock("probe", "--timeout", "2", f"tcp://127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"connection refused by 127.0.0.1:{port}" in result.stdout


def test_probe_exec_healthy(aftershock, tmp_path):
    marker = tmp_path / "ready"
    marker.write_text("")
    result = aftershock("probe", f"exec:test -e '{marker}'")
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_exec_failure_reason(aftershock):
    result = aftershock("probe", "--timeout", "2", "exec:echo not ready yet >&2; exit 3")
    assert result.returncode == 1
    assert "command exited with status 3: not ready yet" in result.stdout


def test_probe_exec_becomes_healthy(aftershock, tmp_path):
    marker = tmp_path / "ready"
    proc = aftershock.start("probe", "--json", f"exec:test -e '{marker}'")
    time.sleep(1.0)
    marker.write_text("")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (target,) = json.loads(out)["targets"]
    assert target["healthy"] is True
    assert target["attempts"] > 1


# --- waiting and deadlines ---------------------------------------------------------------

def test_probe_server_starts_late(aftershock, tmp_path, servers):
    port = free_port()
    proc = aftershock.start("probe", "--json", f"http://127.0.0.1:{port}/")
    time.sleep(1.0)
    server = servers(port=port)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (target,) = json.loads(out)["targets"]
    assert target["healthy"] is True
    assert target["attempts"] > 1
    assert target["last_error"] is None
    # Once healthy, the target is not polled again.
    assert len(server.requests()) == 1


def test_probe_service_unavailable_then_ready(aftershock, servers):
    server = servers(ready_after=1.0)
    result = aftershock("probe", "--json", server.url)
    assert result.returncode == 0, result.stderr
    statuses = [r["status"] for r in server.requests()]
    assert statuses[0] == 503
    assert statuses[-1] == 200
    assert statuses.count(200) == 1
    assert parse_json(result)["targets"][0]["attempts"] == len(statuses)


def test_probe_deadline_passes(aftershock):
    port = closed_port()
    result = aftershock("probe", "--timeout", "1", "--json", f"tcp://127.0.0.1:{port}")
    assert result.returncode == 1
    doc = parse_json(result)
    assert doc["healthy"] is False
    assert doc["elapsed"] >= 0.9
    assert doc["targets"][0]["attempts"] > 1


def test_probe_no_sleep_past_deadline_schedule(aftershock):
    # The first retry would come after 5 s, past the 0.5 s deadline, so
    # exactly one attempt happens.
    port = closed_port()
    result = aftershock("probe", "--timeout", "0.5", "--schedule", "5", "--json",
                        f"tcp://127.0.0.1:{port}")
    assert result.returncode == 1
    assert parse_json(result)["targets"][0]["attempts"] == 1


def test_probe_fixed_schedule_paces_attempts(aftershock, servers):
    server = servers(ready_after=1.0)
    result = aftershock("probe", "--schedule", "0.4", "--json", server.url)
    assert result.returncode == 0, result.stderr
    # Attempts at 0, 0.4 and 0.8 s get 503, and the one at 1.2 s gets 200.
    statuses = [r["status"] for r in server.requests()]
    assert statuses.count(503) >= 2
    assert statuses.count(503) <= 3


def test_probe_several_targets_all_healthy(aftershock, servers, tcp_listener, tmp_path):
    early = servers(name="early")
    late = servers(name="late", ready_after=1.0)
    result = aftershock("probe", "--json", early.url, late.url, f"tcp://127.0.0.1:{tcp_listener}",
                        "exec:true")
    assert result.returncode == 0, result.stderr
    doc = parse_json(result)
    assert doc["healthy"] is True
    assert [t["attempts"] for t in doc["targets"]][0] == 1
    assert doc["targets"][1]["attempts"] > 1
    # The early target is polled once even though the late one took several attempts.
    assert len(early.requests()) == 1


def test_probe_several_targets_one_unhealthy(aftershock, servers):
    server = servers()
    port = closed_port()
    result = aftershock("probe", "--timeout", "2", server.url, f"tcp://127.0.0.1:{port}")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{server.url}: healthy after 1 attempt")
    assert lines[1].startswith(f"tcp://127.0.0.1:{port}: still unhealthy after")
    assert len(server.requests()) == 1


def test_probe_interrupted(aftershock):
    port = closed_port()
    proc = aftershock.start("probe", f"tcp://127.0.0.1:{port}")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert "still unhealthy" in out


def test_probe_terminated(aftershock):
    port = closed_port()
    proc = aftershock.start("probe", f"tcp://127.0.0.1:{port}")
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert "interrupted" in err
    assert "still unhealthy" in out


# --- localhost tries every address -------------------------------------------------------

def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback on this machine")
def test_probe_localhost_ipv6_only(aftershock, servers):
    server = servers(bind="::1")
    result = aftershock("probe", f"http://localhost:{server.port}/",
                        f"tcp://localhost:{server.port}")
    assert result.returncode == 0, result.stdout + result.stderr
    (request,) = server.requests()
    # The Host header keeps the name the user gave.
    assert ["Host", f"localhost:{server.port}"] in request["headers"]


def test_probe_localhost_ipv4_only(aftershock, servers):
    server = servers(bind="127.0.0.1")
    result = aftershock("probe", f"http://localhost:{server.port}/",
                        f"tcp://localhost:{server.port}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(server.requests()) == 1


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback on this machine")
def test_probe_ipv6_literal(aftershock, servers):
    server = servers(bind="::1")
    result = aftershock("probe", f"http://[::1]:{server.port}/", f"tcp://[::1]:{server.port}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_localhost_names_every_address(aftershock):
    port = closed_port()
    result = aftershock("probe", "--timeout", "2", f"tcp://localhost:{port}")
    assert result.returncode == 1
    assert f"connection refused by [::1]:{port}" in result.stdout
    assert f"connection refused by 127.0.0.1:{port}" in result.stdout


# --- output ------------------------------------------------------------------------------

def test_probe_json_shape(aftershock, servers):
    server = servers()
    port = closed_port()
    result = aftershock("probe", "--json", "--timeout", "2", server.url,
                        f"tcp://127.0.0.1:{port}")
    assert result.returncode == 1
    doc = parse_json(result)
    assert set(doc) == {"healthy", "elapsed", "targets"}
    assert doc["healthy"] is False
    assert isinstance(doc["elapsed"], float)
    healthy, unhealthy = doc["targets"]
    for target in doc["targets"]:
        assert set(target) == {"target", "healthy", "attempts", "elapsed", "last_error"}
        assert isinstance(target["attempts"], int)
        assert isinstance(target["elapsed"], float)
    assert healthy["target"] == server.url
    assert healthy["healthy"] is True
    assert healthy["attempts"] == 1
    assert healthy["last_error"] is None
    assert unhealthy["target"] == f"tcp://127.0.0.1:{port}"
    assert unhealthy["healthy"] is False
    assert "connection refused" in unhealthy["last_error"]


def test_probe_no_progress_or_colour_off_terminal(aftershock, servers):
    server = servers(ready_after=0.5)
    result = aftershock("probe", server.url, env={"NO_COLOR": ""})
    assert result.returncode == 0
    assert result.stderr == ""
    assert "\033" not in result.stdout


def run_on_terminal(aftershock, args, env_extra):
    """Runs aftershock with stderr on a pseudo-terminal; returns (code, stdout, terminal text)."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.update(env_extra)
    proc = subprocess.Popen([aftershock.bin, *args], stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=30), out, b"".join(chunks).decode(errors="replace")


def test_probe_progress_on_terminal(aftershock, servers):
    server = servers(ready_after=1.0)
    code, out, terminal = run_on_terminal(aftershock, ["probe", server.url], {"NO_COLOR": ""})
    assert code == 0
    assert f"{server.url}: " in terminal
    assert "s left" in terminal
    assert "status 503" in terminal
    # Lines are redrawn in place: cursor up, then erase.
    assert "\033[1A" in terminal
    assert "healthy after" in out


def test_probe_no_colour_with_no_color(aftershock, servers):
    server = servers()
    code, out, terminal = run_on_terminal(aftershock, ["probe", server.url], {"NO_COLOR": "1"})
    assert code == 0
    assert "\033[3" not in out
    assert "\033[3" not in terminal


# --- invalid input -----------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["ftp://127.0.0.1/"], "unknown scheme 'ftp' in 'ftp://127.0.0.1/'"),
    (["127.0.0.1:80"], "invalid target '127.0.0.1:80'"),
    (["tcp://127.0.0.1"], "missing port in 'tcp://127.0.0.1'"),
    (["tcp://127.0.0.1:70000"], "invalid port '70000' in 'tcp://127.0.0.1:70000'"),
    (["tcp://127.0.0.1:0"], "invalid port '0'"),
    (["http://127.0.0.1:99999/"], "invalid port in 'http://127.0.0.1:99999/'"),
    (["exec:"], "empty command in 'exec:'"),
    (["--status", "2xx", "tcp://127.0.0.1:1"], "invalid status '2xx'"),
    (["--status", "299-200", "tcp://127.0.0.1:1"], "invalid status range '299-200'"),
    (["--body-regex", "(open", "tcp://127.0.0.1:1"], "invalid regular expression '(open'"),
    (["--timeout", "soon", "tcp://127.0.0.1:1"], "invalid value 'soon' for --timeout"),
    (["--timeout", "-1", "tcp://127.0.0.1:1"], "invalid value '-1' for --timeout"),
    (["--attempt-timeout", "0", "tcp://127.0.0.1:1"], "invalid value '0' for --attempt-timeout"),
    (["--interval", "1x", "tcp://127.0.0.1:1"], "invalid value '1x' for --interval"),
    (["--backoff-factor", "0.5", "tcp://127.0.0.1:1"], "invalid value '0.5' for --backoff-factor"),
    (["--jitter", "1.5", "tcp://127.0.0.1:1"], "invalid value '1.5' for --jitter"),
    (["--schedule", "2,,4", "tcp://127.0.0.1:1"], "empty delay at position 2 in '2,,4'"),
    (["--schedule", "2,abc", "tcp://127.0.0.1:1"], "invalid delay 'abc' in '2,abc'"),
    (["--schedule", "2", "--interval", "1", "tcp://127.0.0.1:1"], "cannot be combined"),
    (["--max-interval", "50ms", "tcp://127.0.0.1:1"], "--max-interval 0.05 s is shorter"),
    (["--header", "NoColon", "tcp://127.0.0.1:1"], "invalid header 'NoColon'"),
])
def test_probe_invalid_input(aftershock, args, message):
    result = aftershock("probe", *args)
    assert result.returncode == 2
    assert "aftershock: error: " in result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_probe_needs_a_target(aftershock):
    result = aftershock("probe")
    assert result.returncode == 2
    assert "aftershock: error: " in result.stderr
