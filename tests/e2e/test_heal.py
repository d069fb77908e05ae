"""End-to-end healing scenarios: real failures healed (or, for findings, not retried) by
`aftershock heal`, each checked through its attempts, its records and its exit code."""
import base64
import hashlib
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zipfile

import pytest

from conftest import free_port, process_state, stop_process, wait_for_port

FAST = ["--interval", "0.2", "--max-interval", "1"]


def attempts(db):
    """Every recorded healing attempt, in order, as dicts."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM chaos_heal_attempts ORDER BY session, attempt")
        return [dict(row) for row in rows]


def runs(db):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM chaos_runs ORDER BY id")]


def write_json(path, doc):
    path.write_text(json.dumps(doc, indent=2))
    return path


# ---- a command that fails twice with a connection reset, then passes ----

def test_connection_reset_twice_then_pass(aftershock, tcp_server, tmp_path):
    accepted = []

    def handler(conn):
        accepted.append(1)
        if len(accepted) <= 2:
            # SO_LINGER with a zero timeout makes close() send a reset.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        # Read the request first: closing with unread data would also send a reset.
        conn.recv(100)
        conn.sendall(b"pong\n")
        conn.close()

    server = tcp_server(handler)
    host, port = server.address.rsplit(":", 1)
    client = tmp_path / "client.py"
    client.write_text(
        "import socket, sys\n"
        f"s = socket.create_connection(({host!r}, {port}), timeout=30)\n"
        "s.sendall(b'ping\\n')\n"
        "data = b''\n"
        "while True:\n"
        "    chunk = s.recv(100)\n"
        "    if not chunk:\n"
        "        break\n"
        "    data += chunk\n"
        "print('got', data.decode().strip())\n")
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, *FAST, "--", sys.executable, client)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "got pong\n"
    assert result.stderr.count("ConnectionResetError") == 2
    retry_lines = [l for l in result.stderr.splitlines() if l.startswith("aftershock: heal: attempt")]
    assert len(retry_lines) == 3, result.stderr
    assert "attempt 1/4 failed with exit 1: network, rule connection-reset; strategy backoff" \
        in retry_lines[0]
    assert "retrying in" in retry_lines[0]
    assert "attempt 3/4 succeeded after 2 failed attempts" in retry_lines[2]
    rows = attempts(db)
    assert [r["attempt"] for r in rows] == [1, 2, 3]
    assert len({r["session"] for r in rows}) == 1
    assert [r["outcome"] for r in rows] == ["retried", "retried", "succeeded"]
    assert [r["category"] for r in rows] == ["network", "network", None]
    assert [r["strategy"] for r in rows] == ["backoff", "backoff", None]
    assert [r["exit_code"] for r in rows] == [1, 1, 0]
    assert "Connection reset by peer" in rows[0]["message"]
    assert rows[0]["command"].endswith("client.py")
    assert len(accepted) == 3

    # The weekly report reads these records: one failed session, healed.
    report = aftershock("report", "--db", db, "--format", "json", "--output", "-")
    assert report.returncode == 0, report.stderr
    healing = json.loads(report.stdout)["healing"]
    assert healing["current"]["attempts"] == 3
    assert healing["current"]["failed_sessions"] == 1
    assert healing["current"]["healed_sessions"] == 1
    strategies = {(s["category"], s["strategy"]): s for s in healing["strategies"]}
    assert strategies[("network", "backoff")]["attempts"] == 2
    assert strategies[("network", "backoff")]["succeeded"] == 1


# ---- a service that starts 5 s late, healed by waiting for health ----

def test_service_starting_late_is_awaited(aftershock, tmp_path):
    port = free_port()
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("ready\n")
    (tmp_path / "aftershock.yaml").write_text(
        f"health_targets:\n  - http://127.0.0.1:{port}/\n")
    server = {}

    def start_server():
        server["proc"] = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
             "--directory", str(tmp_path / "www")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    timer = threading.Timer(5.0, start_server)
    db = tmp_path / "history.db"
    started = time.monotonic()
    timer.start()
    try:
        result = aftershock("heal", "--db", db, *FAST, "--", "curl", "-fsS",
                            f"http://127.0.0.1:{port}/index.html")
    finally:
        timer.cancel()
        timer.join()
        if "proc" in server:
            stop_process(server["proc"])
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    assert result.stdout == "ready\n"
    assert "health, rule connection-refused; strategy probe: aftershock probe succeeded" \
        in result.stderr
    rows = attempts(db)
    assert [r["attempt"] for r in rows] == [1, 2]
    assert rows[0]["exit_code"] == 7
    assert rows[0]["category"] == "health"
    assert rows[0]["strategy"] == "probe"
    assert rows[0]["strategy_ok"] == 1
    assert rows[0]["outcome"] == "retried"
    assert rows[1]["outcome"] == "succeeded"
    # The probe waited for the server rather than retrying at once.
    assert elapsed >= 4.5


# ---- a leftover toxic and a paused process from a killed run, healed by rollback ----

def fault_experiment(pid, api, proxy):
    return {
        "title": "pause and toxic", "description": "left behind by a killed run",
        "method": [
            {"type": "action", "name": "pause nginx", "background": True,
             "provider": {"type": "signal", "pid": pid, "signal": "STOP", "duration": 60}},
            {"type": "action", "name": "slow proxy", "pauses": {"after": 60},
             "provider": {"type": "toxic", "action": "add", "proxy": proxy, "api": api,
                          "toxic": {"type": "latency", "attributes": {"latency": 1000}}}},
        ],
    }


def test_leftover_faults_are_rolled_back(aftershock, nginx, proxy_server, tmp_path):
    proxy_server.create("web", f"127.0.0.1:{nginx.port}")
    write_json(tmp_path / "faults.json", fault_experiment(nginx.pid, proxy_server.url, "web"))
    write_json(tmp_path / "check.json", {
        "title": "nginx answers", "description": "passes once nothing is left",
        "steady-state-hypothesis": {"title": "page", "probes": [
            {"type": "probe", "name": "page", "tolerance": 200,
             "provider": {"type": "http", "url": nginx.url + "/", "timeout": 2}}]},
        "method": [{"type": "action", "name": "noop",
                    "provider": {"type": "process", "path": "/bin/true"}}]})
    db = tmp_path / "history.db"
    # The killed run keeps its fault ledger in the history store, the default place.
    killed = subprocess.Popen([aftershock.bin, "run", "--db", str(db), "faults.json"],
                              cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True,
                              env=dict(os.environ, NO_COLOR="1"))
    deadline = time.monotonic() + 30
    while process_state(nginx.pid) != "T" or not proxy_server.request(
            "GET", "/proxies/web/toxics")[1]:
        assert killed.poll() is None
        assert time.monotonic() < deadline, "the faults were never applied"
        time.sleep(0.01)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)

    result = aftershock("heal", "--db", db, *FAST, "--", aftershock.bin, "run", "--db", db,
                        "check.json")

    assert result.returncode == 0, result.stderr
    assert "has ended without undoing them" in result.stderr
    assert "injection, rule aftershock-leftover-fault; strategy rollback: aftershock rollback " \
           "succeeded" in result.stderr
    rows = attempts(db)
    assert [(r["attempt"], r["exit_code"], r["category"], r["strategy"], r["strategy_ok"],
             r["outcome"]) for r in rows] == [
        (1, 3, "injection", "rollback", 1, "retried"), (2, 0, None, None, None, "succeeded")]
    assert process_state(nginx.pid) != "T"
    assert proxy_server.request("GET", "/proxies/web/toxics")[1] == []
    # The healed run names its session and attempt, and counts as healed.
    recorded = runs(db)
    assert len(recorded) == 1
    assert recorded[0]["heal_session"] == rows[0]["session"]
    assert recorded[0]["heal_attempt"] == 2
    assert recorded[0]["healed"] == 1


# ---- an experiment that deviates: a finding, never retried ----

def test_deviating_experiment_is_not_retried(aftershock, app, tmp_path):
    write_json(tmp_path / "deviates.json", {
        "title": "orders survive a bad deploy", "description": "the health check breaks",
        "steady-state-hypothesis": {"title": "healthy", "probes": [
            {"type": "probe", "name": "health", "tolerance": 200,
             "provider": {"type": "http", "url": app.url + "/health", "timeout": 2}}]},
        "method": [{"type": "action", "name": "break health",
                    "provider": {"type": "process", "path": "/bin/sh",
                                 "arguments": ["-c", f"echo 500 > {app.state}"]}}]})
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, *FAST, "--", aftershock.bin, "run", "--db", db,
                        "deviates.json")

    assert result.returncode == 1, result.stderr
    assert "verdict, rule aftershock-deviated; not retried: a finding is never healed" \
        in result.stderr
    assert "retrying" not in result.stderr
    rows = attempts(db)
    assert len(rows) == 1
    assert rows[0]["category"] == "verdict"
    assert rows[0]["outcome"] == "stopped"
    assert rows[0]["strategy"] is None
    assert "deviated" in rows[0]["message"]
    recorded = runs(db)
    assert len(recorded) == 1
    assert recorded[0]["deviated"] == 1
    assert recorded[0]["heal_session"] == rows[0]["session"]
    assert recorded[0]["healed"] == 0


# ---- a syntax error: nothing a retry changes ----

def test_syntax_error_is_not_retried(aftershock, tmp_path):
    (tmp_path / "broken.py").write_text("def handler(event:\n    return event\n")
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, *FAST, "--", sys.executable, "broken.py")

    assert result.returncode == 1, result.stderr
    assert "SyntaxError" in result.stderr
    assert "config, rule source-syntax-error; not retried: a retry cannot change this failure" \
        in result.stderr
    rows = attempts(db)
    assert len(rows) == 1
    assert rows[0]["category"] == "config"
    assert rows[0]["outcome"] == "gave_up"
    assert rows[0]["exit_code"] == 1


# ---- a script importing a module that a local wheel provides ----

def build_wheel(folder, name, version="1.0"):
    """Writes a minimal pure-Python wheel for module `name`, as pip expects it."""
    files = {
        f"{name}/__init__.py": f"VALUE = 'from the {name} wheel'\n",
        f"{name}-{version}.dist-info/METADATA":
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL":
            "Wheel-Version: 1.0\nGenerator: aftershock-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n",
        f"{name}-{version}.dist-info/top_level.txt": f"{name}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_missing_module_is_installed_by_deps(aftershock, tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "healdemo")
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "job.py").write_text("import healdemo\nprint(healdemo.VALUE)\n")
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, *FAST, f"--deps-arg=--python={python}",
                        f"--deps-arg=--pip-args=--no-index --find-links {wheels}",
                        "--", str(python), "job.py", timeout=600)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "from the healdemo wheel\n"
    assert "ModuleNotFoundError: No module named 'healdemo'" in result.stderr
    assert "dependency, rule python-module-missing; strategy deps: aftershock deps --fix " \
           "--install succeeded" in result.stderr
    rows = attempts(db)
    assert [(r["attempt"], r["category"], r["strategy"], r["strategy_ok"], r["outcome"])
            for r in rows] == [(1, "dependency", "deps", 1, "retried"),
                               (2, None, None, None, "succeeded")]
    assert "healdemo" in (tmp_path / "requirements.txt").read_text()


# ---- strategies that fail are recorded and the backoff still applies ----

def test_failing_strategy_still_waits(aftershock, tmp_path):
    (tmp_path / "rules.yaml").write_text(
        "rules:\n"
        "  - name: flaky-thing\n"
        "    category: network\n"
        "    patterns: ['flaky thing broke']\n"
        "    run: 'echo trying to fix; exit 3'\n")
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, "--rules", "rules.yaml", "--interval", "1",
                        "--jitter", "0", "--max-retries", "1", "--command",
                        "echo 'flaky thing broke' >&2; exit 9")

    assert result.returncode == 9, result.stderr
    assert "network, rule flaky-thing; strategy command: rule command 'echo trying to fix; " \
           "exit 3' failed with exit 3: trying to fix; retrying in 1.0 s" in result.stderr
    rows = attempts(db)
    assert [(r["strategy"], r["strategy_ok"], r["outcome"]) for r in rows] == [
        ("command", 0, "retried"), (None, None, "gave_up")]
    assert rows[1]["started_ms"] - rows[0]["started_ms"] >= 1000


# ---- a missing environment variable: check --fix, then one more attempt ----

def test_missing_variable_runs_check(aftershock, tmp_path):
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, *FAST, "--command",
                        "echo 'Error: environment variable \"API_TOKEN\" is not set' >&2; exit 1")

    assert result.returncode == 1
    assert "config, rule missing-environment-variable; strategy check: aftershock check --fix" \
        in result.stderr
    assert "not retried: rule missing-environment-variable allows 2 attempts" in result.stderr
    rows = attempts(db)
    assert [(r["attempt"], r["category"], r["strategy"], r["outcome"]) for r in rows] == [
        (1, "config", "check", "retried"), (2, "config", None, "gave_up")]
    # check ran for real: it succeeded or failed, but it is not reported as skipped.
    assert rows[0]["strategy_ok"] in (0, 1)
