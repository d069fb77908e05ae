"""End-to-end tests of `aftershock heal` as a command: output passed through unchanged,
standard input, timeouts, exit code options, saved-log classification and invalid input."""
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

FAST = ["--interval", "0.1", "--max-interval", "0.5"]
CORPUS = Path(__file__).resolve().parent.parent / "heal" / "corpus"


def attempts(db):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(
            "SELECT * FROM chaos_heal_attempts ORDER BY session, attempt")]


def test_success_passes_output_through(aftershock, tmp_path):
    script = tmp_path / "emit.py"
    script.write_text(
        "import sys\n"
        "sys.stdout.buffer.write(b'line one\\n\\x00\\xff\\xfe binary\\r\\nno newline at end')\n"
        "sys.stderr.buffer.write(b'warning: \\xc3\\xa9 on stderr\\n')\n")
    db = tmp_path / "history.db"
    env = dict(os.environ, NO_COLOR="1")

    proc = subprocess.run([aftershock.bin, "heal", "--db", str(db), "--", sys.executable,
                           str(script)], cwd=tmp_path, env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=120)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"line one\n\x00\xff\xfe binary\r\nno newline at end"
    assert proc.stderr == b"warning: \xc3\xa9 on stderr\n"
    rows = attempts(db)
    assert len(rows) == 1
    assert rows[0]["outcome"] == "succeeded"
    assert rows[0]["category"] is None
    assert rows[0]["exit_code"] == 0


def test_same_destination_keeps_order(aftershock, tmp_path):
    script = tmp_path / "interleave.py"
    script.write_text(
        "import sys\n"
        "for i in range(200):\n"
        "    out = sys.stdout if i % 2 == 0 else sys.stderr\n"
        "    out.write(f'line {i}\\n')\n"
        "    out.flush()\n")
    log = tmp_path / "combined.log"
    with open(log, "wb") as out:
        proc = subprocess.run([aftershock.bin, "heal", "--no-record", "--", sys.executable,
                               str(script)], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=120)

    assert proc.returncode == 0
    assert log.read_text() == "".join(f"line {i}\n" for i in range(200))


def test_stdin_goes_to_first_attempt_only(aftershock, tmp_path):
    script = tmp_path / "reader.py"
    script.write_text(
        "import os, sys\n"
        "data = sys.stdin.read()\n"
        "attempt = os.environ['AFTERSHOCK_HEAL_ATTEMPT']\n"
        "with open('seen.txt', 'a') as f:\n"
        "    f.write(f\"{attempt} {os.environ['AFTERSHOCK_HEAL_SESSION']} {data!r}\\n\")\n"
        "if attempt == '1':\n"
        "    sys.exit('ConnectionResetError: [Errno 104] Connection reset by peer')\n")

    result = aftershock("heal", "--no-record", *FAST, "--", sys.executable, script,
                        input="payload\n")

    assert result.returncode == 0, result.stderr
    seen = (tmp_path / "seen.txt").read_text().splitlines()
    assert len(seen) == 2
    first, second = (line.split(" ", 2) for line in seen)
    assert first[0] == "1"
    assert first[2] == "'payload\\n'"
    assert second[0] == "2"
    assert second[2] == "''"
    assert first[1] == second[1]
    assert first[1].startswith("heal-")


def test_timeout_ends_process_group(aftershock, tmp_path):
    result = aftershock("heal", "--no-record", "--timeout", "1", "--max-retries", "0",
                        "--command", "sleep 300 & echo $! > child.pid; wait")

    assert result.returncode == 124, result.stderr
    assert "timeout, rule (none)" in result.stderr
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{child}"):
        with open(f"/proc/{child}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        assert time.monotonic() < deadline, "the command's child survived the timeout"
        time.sleep(0.05)


def test_max_retries_and_last_exit_code(aftershock, tmp_path):
    db = tmp_path / "history.db"
    result = aftershock("heal", "--db", db, *FAST, "--max-retries", "2", "--command",
                        "echo 'curl: (28) Operation timed out' >&2; exit 28")

    assert result.returncode == 28
    assert "attempt 3/3 failed with exit 28: timeout, rule timed-out; giving up: no retries " \
           "left (--max-retries 2)" in result.stderr
    assert [r["outcome"] for r in attempts(db)] == ["retried", "retried", "gave_up"]


@pytest.mark.parametrize("option, value, reason", [
    ("--never-retry-on-exit", "5,7", "exit 5 is never retried (--never-retry-on-exit)"),
    ("--retry-on-exit", "1-4,6", "exit 5 is not in --retry-on-exit"),
])
def test_exit_code_options(aftershock, tmp_path, option, value, reason):
    result = aftershock("heal", "--no-record", *FAST, option, value, "--command",
                        "echo 'Connection reset by peer'; exit 5")

    assert result.returncode == 5
    assert reason in result.stderr
    assert "retrying" not in result.stderr


def test_retry_on_exit_allows_listed_codes(aftershock, tmp_path):
    (tmp_path / "count").write_text("")
    result = aftershock("heal", "--no-record", *FAST, "--retry-on-exit", "5", "--command",
                        "echo x >> count; [ $(wc -l < count) -ge 2 ] || exit 5")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "count").read_text() == "x\nx\n"


def test_deadline_stops_before_long_wait(aftershock, tmp_path):
    result = aftershock("heal", "--no-record", "--deadline", "2", "--interval", "30",
                        "--command", "echo 'Connection reset by peer'; exit 1")

    assert result.returncode == 1
    assert "giving up: the next attempt would start after the deadline" in result.stderr


def test_rules_file_verdict_and_config(aftershock, tmp_path):
    (tmp_path / "team-rules.yaml").write_text(
        "rules:\n"
        "  - name: data-loss\n    verdict: true\n    patterns: ['DATA LOSS detected']\n")
    (tmp_path / "aftershock.yaml").write_text("rules: team-rules.yaml\n")
    db = tmp_path / "history.db"

    result = aftershock("heal", "--db", db, *FAST, "--command",
                        "echo 'Connection reset by peer'; echo 'DATA LOSS detected'; exit 4")

    assert result.returncode == 4
    assert "verdict, rule data-loss; not retried: a finding is never healed" in result.stderr
    rows = attempts(db)
    assert [(r["category"], r["outcome"]) for r in rows] == [("verdict", "stopped")]


def test_missing_command_is_reported(aftershock, tmp_path):
    result = aftershock("heal", "--no-record", "--max-retries", "0", "--",
                        "no-such-program-anywhere", "arg")

    assert result.returncode == 127
    assert "no-such-program-anywhere: command not found" in result.stderr
    assert "dependency, rule command-not-found" in result.stderr


def test_classify_saved_log(aftershock, tmp_path):
    text = aftershock("heal", "--classify", CORPUS / "py-module-missing.log")
    as_json = aftershock("heal", "--classify", CORPUS / "aftershock-verify-failed.log",
                         "--exit-code", "1", "--command", "aftershock verify journal.json",
                         "--json")
    from_stdin = aftershock("heal", "--classify", "-", "--json",
                            input="all good\nfinal line\n")

    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "category: dependency", "rule:     python-module-missing", "strategy: deps",
        "retried:  yes", "line:     ModuleNotFoundError: No module named 'boto3'"]
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {
        "category": "verdict", "rule": "aftershock-finding", "strategy": "stop",
        "retried": False, "line": "resilience score 0.00", "line_matched": False,
        "exit_code": 1}
    assert json.loads(from_stdin.stdout)["rule"] is None
    assert json.loads(from_stdin.stdout)["line"] == "final line"


def test_list_rules(aftershock, tmp_path):
    result = aftershock("heal", "--list-rules", "--json")

    assert result.returncode == 0
    rules = json.loads(result.stdout)["rules"]
    names = [r["name"] for r in rules]
    assert names[0] == "aftershock-deviated"
    assert len(names) == len(set(names))
    by_name = {r["name"]: r for r in rules}
    assert by_name["aftershock-finding"]["strategy"] == "stop"
    assert by_name["killed-exit-137"]["exit_codes"] == [137]
    assert all(r["builtin"] for r in rules)


@pytest.mark.parametrize("args, message", [
    ([], "no command to heal"),
    (["--command", "true", "--", "true"], "either with --command or after '--'"),
    (["--command", ""], "--command is empty"),
    (["--retry-on-exit", "1,x", "--", "true"], "invalid value '1,x' for --retry-on-exit"),
    (["--never-retry-on-exit", "300", "--", "true"], "invalid value '300'"),
    (["--max-retries", "-1", "--", "true"], "max-retries"),
    (["--timeout", "soon", "--", "true"], "timeout"),
    (["--exit-code", "1", "--", "true"], "--exit-code only applies to --classify"),
    (["--rules", "missing.yaml", "--", "true"], "missing.yaml"),
    (["--rules", "bad.yaml", "--", "true"], "bad.yaml: rule 'x': unknown category 'flaky'"),
    (["--classify", "missing.log"], "cannot read the log 'missing.log'"),
    (["--classify", "-", "--exit-code", "256"], "exit-code"),
    (["--schedule", "2,4", "--interval", "1", "--", "true"], "cannot be combined"),
])
def test_invalid_input(aftershock, tmp_path, args, message):
    (tmp_path / "bad.yaml").write_text("rules:\n  - name: x\n    category: flaky\n    pattern: y\n")

    result = aftershock("heal", "--no-record", *args, input="")

    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "reports").exists()


def test_invalid_project_config(aftershock, tmp_path):
    (tmp_path / "aftershock.yaml").write_text("health_targets: 7\n")

    result = aftershock("heal", "--no-record", "--", "true")

    assert result.returncode == 2
    assert "aftershock.yaml" in result.stderr


def test_unwritable_store_still_heals(aftershock, tmp_path):
    (tmp_path / "blocker").write_text("a file where a folder should be\n")

    result = aftershock("heal", "--db", tmp_path / "blocker" / "h.db", "--", "true")

    assert result.returncode == 0
    assert "warning: healing attempts are not recorded" in result.stderr


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_gigabyte_output_keeps_memory_bounded(aftershock, tmp_path):
    """1 GiB of log lines, then the cause on the last line: the cause is still found and
    the healer's peak memory stays small."""
    command = ("yes '2026-12-04T10:00:00Z INFO request served path=/api/orders status=200 "
               "bytes=5120' | head -c 1073741824; echo; "
               "echo 'OSError: [Errno 28] No space left on device'; exit 1")
    proc = subprocess.Popen([aftershock.bin, "heal", "--no-record", "--max-retries", "0",
                             "--command", command], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, NO_COLOR="1"))
    peak = 0
    stderr = []
    reader = threading.Thread(target=lambda: stderr.append(proc.stderr.read()))
    reader.start()
    while proc.poll() is None:
        try:
            peak = max(peak, vm_hwm_kib(proc.pid))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    proc.wait(timeout=600)
    reader.join(timeout=60)
    message = stderr[0].decode()

    assert proc.returncode == 1, message
    assert "resource, rule no-space-left" in message
    assert peak > 0
    assert peak < 64 * 1024, f"peak resident memory {peak} KiB"


def test_sigterm_ends_attempt_and_healing(aftershock, tmp_path):
    proc = aftershock.start("heal", "--no-record", "--interval", "0.1", "--command",
                            "sleep 300 & echo $! > child.pid; wait")
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())

    proc.send_signal(15)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 143, stderr
    assert "attempt 1/4 failed with exit 143" in stderr
    assert stderr.rstrip().endswith("; interrupted")
    assert "retrying" not in stderr
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{child}"):
        with open(f"/proc/{child}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        assert time.monotonic() < deadline, "the command's child survived SIGTERM"
        time.sleep(0.05)


def test_terminal_input_reaches_command(aftershock, tmp_path):
    """With a terminal as stdin, the command runs in the terminal's foreground and can read it."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp_path)
        os.execv(aftershock.bin, [aftershock.bin, "heal", "--no-record", "--command",
                                  "read line; echo \"got: $line\""])
    os.write(fd, b"hello from the terminal\n")
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)

    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"got: hello from the terminal" in output


def test_records_in_postgresql_with_binary_output(aftershock, postgres_server, postgres_db):
    """Output that is not UTF-8 is still recorded: PostgreSQL rejects invalid text."""
    result = subprocess.run(
        [aftershock.bin, "heal", "--db", postgres_db, *FAST, "--max-retries", "1", "--command",
         "printf 'Connection reset by peer \\377\\376\\n'; exit 1"],
        cwd=aftershock.cwd, capture_output=True, stdin=subprocess.DEVNULL, timeout=120)

    assert result.returncode == 1, result.stderr
    assert result.stdout == b"Connection reset by peer \xff\xfe\n" * 2
    assert b"warning" not in result.stderr
    rows = postgres_server.psql(
        postgres_db, "SELECT attempt, category, strategy, outcome, message "
        "FROM chaos_heal_attempts ORDER BY attempt").splitlines()
    assert len(rows) == 2
    assert rows[0].startswith("1|network|backoff|retried|Connection reset by peer ")
    assert rows[1].startswith("2|network||gave_up|Connection reset by peer ")
