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
