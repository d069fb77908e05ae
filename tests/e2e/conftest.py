"""Shared fixtures for end-to-end tests: the real aftershock binary and real servers on loopback."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SERVERS = HERE / "servers"


def aftershock_bin():
    path = os.environ.get("AFTERSHOCK_BIN", str(REPO / "build" / "aftershock"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"aftershock binary not found at {path}: build it or set AFTERSHOCK_BIN")
    return path


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(port, host="127.0.0.1", timeout=20.0):
    """Wait until something accepts TCP connections on host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s")


def stop_process(proc):
    """End a process this test started, by its pid, resuming it first in case it is paused."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(timeout=10)


class Runner:
    """Runs the aftershock binary in a working folder."""

    def __init__(self, cwd):
        self.cwd = Path(cwd)
        self.bin = aftershock_bin()

    def __call__(self, *args, timeout=120, env=None, input=None):
        full_env = dict(os.environ)
        full_env["NO_COLOR"] = "1"
        if env:
            full_env.update(env)
        return subprocess.run([self.bin, *map(str, args)], cwd=self.cwd, env=full_env,
                              capture_output=True, text=True, timeout=timeout,
                              input=input, stdin=None if input is not None else subprocess.DEVNULL)

    def start(self, *args, env=None):
        full_env = dict(os.environ)
        full_env["NO_COLOR"] = "1"
        if env:
            full_env.update(env)
        return subprocess.Popen([self.bin, *map(str, args)], cwd=self.cwd, env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)


@pytest.fixture
def aftershock(tmp_path):
    return Runner(tmp_path)


class AppServer:
    """The test HTTP service (tests/e2e/servers/app.py); its health status lives in a file."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.state = tmp_path / "app-status"
        self.state.write_text("200\n")
        self.log = tmp_path / "app-requests.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVERS / "app.py"), "--port", str(self.port),
             "--status-file", str(self.state), "--log", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def set_status(self, status):
        self.state.write_text(f"{status}\n")

    def requests(self):
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text().splitlines() if line]

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def app(tmp_path):
    server = AppServer(tmp_path)
    yield server
    server.stop()


class Nginx:
    """A real nginx from Debian, single process (master_process off), on a free loopback port."""

    def __init__(self, tmp_path):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.port = free_port()
        self.root = tmp_path / "nginx"
        (self.root / "html").mkdir(parents=True)
        (self.root / "logs").mkdir()
        (self.root / "html" / "index.html").write_text("hello from nginx\n")
        (self.root / "html" / "health.json").write_text('{"status": "ok", "checks": [1, 2]}\n')
        conf = self.root / "nginx.conf"
        conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
error_log {self.root}/logs/error.log;
pid {self.root}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {self.root}/logs/access.log;
    client_body_temp_path {self.root}/tmp_body;
    proxy_temp_path {self.root}/tmp_proxy;
    fastcgi_temp_path {self.root}/tmp_fastcgi;
    uwsgi_temp_path {self.root}/tmp_uwsgi;
    scgi_temp_path {self.root}/tmp_scgi;
    types {{ application/json json; text/html html; }}
    server {{
        listen 127.0.0.1:{self.port};
        root {self.root}/html;
    }}
}}
""")
        self.proc = subprocess.Popen([binary, "-p", str(self.root), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.pid = self.proc.pid
        self.pid_file = self.root / "nginx.pid"
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def nginx(tmp_path):
    server = Nginx(tmp_path)
    yield server
    server.stop()


def process_state(pid):
    """The one-letter state of a process from /proc (R, S, T for stopped, ...)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class ProxyServer:
    """`aftershock proxy` on a free loopback API port, with helpers for its HTTP API."""

    def __init__(self, tmp_path, *args, env=None):
        self.runner = Runner(tmp_path)
        self.stderr_path = tmp_path / f"proxy-{time.monotonic_ns()}.log"
        full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
        self.proc = subprocess.Popen(
            [self.runner.bin, "proxy", "--port", "0", *map(str, args)], cwd=tmp_path,
            env=full_env, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "w"), text=True,
            stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"proxy did not start: {line!r} {self.stderr_path.read_text()}")
        self.url = line.strip().split()[-1]
        self.host, port = self.url[len("http://"):].rsplit(":", 1)
        self.port = int(port)
        self.pid = self.proc.pid

    def request(self, method, path, body=None, raw=None, headers=None, timeout=10):
        """Send one API request; returns (status, parsed JSON or text or None, response headers)."""
        import http.client
        import json
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        conn.request(method, path, body=data, headers=headers or {})
        res = conn.getresponse()
        text = res.read().decode()
        conn.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return res.status, parsed, dict(res.getheaders())

    def create(self, name, upstream, listen="127.0.0.1:0", **extra):
        """Create a proxy and return the port it listens on."""
        status, doc, _ = self.request("POST", "/proxies",
                                      {"name": name, "listen": listen, "upstream": upstream, **extra})
        assert status == 201, doc
        return int(doc["listen"].rsplit(":", 1)[1])

    def add_toxic(self, proxy, type, attributes=None, **fields):
        status, doc, _ = self.request("POST", f"/proxies/{proxy}/toxics",
                                      {"type": type, "attributes": attributes or {}, **fields})
        assert status == 200, doc
        return doc

    def remove_toxic(self, proxy, name):
        status, doc, _ = self.request("DELETE", f"/proxies/{proxy}/toxics/{name}")
        assert status == 204, doc

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def log(self):
        return self.stderr_path.read_text()

    def stop(self):
        """Stop with SIGTERM; returns the exit status (sanitizer builds fail it on a leak)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop_process(self.proc)
        return self.proc.returncode


@pytest.fixture
def proxy_server(tmp_path):
    server = ProxyServer(tmp_path)
    yield server
    assert server.stop() == 0, server.log()[-4000:]


class TcpServer:
    """A threaded TCP server on loopback; handler(conn) runs once per accepted connection."""

    def __init__(self, handler, host="127.0.0.1"):
        import threading
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.address = f"[{host}]:{self.port}" if family == socket.AF_INET6 else f"{host}:{self.port}"
        self.handler = handler
        self.closed = False
        self.errors = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.handler(conn)
        except OSError as e:
            self.errors.append(e)
        finally:
            conn.close()

    def close(self):
        self.closed = True
        self.sock.close()


@pytest.fixture
def tcp_server():
    """Factory: tcp_server(handler) starts a TcpServer that is closed after the test."""
    servers = []

    def start(handler, host="127.0.0.1"):
        server = TcpServer(handler, host)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.close()


class PostgresServer:
    """A private PostgreSQL server from Debian's packages for store tests: initdb into a
    temporary folder (as the postgres user when the tests run as root), listening on a free
    port of 127.0.0.1 only, trust authentication, its socket in that folder."""

    def __init__(self):
        initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                         key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
        if not initdbs:
            pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql: "
                        "install the postgresql package (scripts/install-deps does)")
        self.bindir = initdbs[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="aftershock-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        self.as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "--auth=trust", "--no-locale", "-E", "UTF8",
                  "-U", "postgres")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories={self.root} -c fsync=off")
        self._run("pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "-t", "60",
                  "-o", options, "start")
        self.counter = 0

    def _run(self, tool, *args):
        result = subprocess.run([*self.as_owner, str(self.bindir / tool), *map(str, args)],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def url(self, dbname, password=None):
        user = "postgres" + (f":{password}" if password else "")
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self):
        """A new, empty database; returns its URL."""
        self.counter += 1
        name = f"store_{self.counter}"
        self._run("createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", name)
        return self.url(name)

    def psql(self, url, sql):
        """Run SQL with psql; returns its unaligned, tuples-only output."""
        result = subprocess.run([str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v",
                                 "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout

    def stop(self):
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def postgres_db(postgres_server):
    """URL of a fresh database on the session's private PostgreSQL server."""
    return postgres_server.create_database()


def chaos_journal(title, start, status="completed", deviated=False, duration=1.0,
                  method_errors=(), rollback_errors=(), before_met=True, after_met=True,
                  before_error=None):
    """A journal shaped like the ones `aftershock run` writes. start is ISO 8601 UTC;
    method_errors and rollback_errors are exception messages of failed actions."""
    def probe(met, error=None):
        record = {"activity": {"type": "probe", "name": "service-healthy"},
                  "status": "failed" if error else "succeeded", "start": start,
                  "end": start, "duration": 0.01, "output": 200, "tolerance_met": met}
        if error:
            record["exception"] = [error]
        return record

    def actions(errors, prefix):
        records = []
        for i, error in enumerate(errors):
            records.append({"activity": {"type": "action", "name": f"{prefix}-{i}"},
                            "status": "failed", "start": start, "end": start,
                            "duration": 0.1, "output": None, "exception": [error]})
        return records

    before = {"steady_state_met": before_met, "probes": [probe(before_met, before_error)]}
    after = None
    if before_met and status != "interrupted":
        after = {"steady_state_met": after_met, "probes": [probe(after_met)]}
    return {
        "chaoslib-version": "aftershock test", "experiment": {"title": title},
        "start": start, "end": start, "duration": duration, "status": status,
        "deviated": deviated, "steady_states": {"before": before, "after": after, "during": []},
        "run": actions(method_errors, "action"), "rollbacks": actions(rollback_errors, "rollback"),
    }


@pytest.fixture
def write_journals(tmp_path):
    """Factory: write_journals([journal, ...], folder) writes numbered journal files and
    returns their paths."""
    import json

    def write(journals, folder="journals"):
        target = tmp_path / folder
        target.mkdir(exist_ok=True)
        paths = []
        for i, journal in enumerate(journals):
            path = target / f"journal-{i:04d}.json"
            path.write_text(json.dumps(journal))
            paths.append(path)
        return paths
    return write
