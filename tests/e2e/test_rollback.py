"""End-to-end tests of the fault ledger and `aftershock rollback`: runs killed at random moments
leave no fault behind, live runs are protected, reused pids are never signalled."""
import json
import os
import random
import signal
import socket
import subprocess
import time

import pytest

from conftest import free_port, process_state

KILL_TRIALS = 50
SIGNAL_TRIALS = 10


def ledger_dir(tmp_path):
    return tmp_path / "reports" / ".ledger"


def ledger_contents(tmp_path):
    """Every file in the ledger folder, temporary files included."""
    folder = ledger_dir(tmp_path)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def fault_experiment(pid, api, proxy, pause_duration=30):
    """Pauses pid (in the background, with or without a duration) and adds a latency toxic,
    then keeps both for 30 s."""
    pause = {"type": "signal", "pid": pid, "signal": "STOP"}
    if pause_duration is not None:
        pause["duration"] = pause_duration
    return {
        "title": "pause and toxic", "description": "rollback test",
        "method": [
            {"type": "action", "name": "pause nginx", "background": pause_duration is not None,
             "provider": pause},
            {"type": "action", "name": "slow proxy", "pauses": {"after": 30},
             "provider": {"type": "toxic", "action": "add", "proxy": proxy, "api": api,
                          "toxic": {"type": "latency", "attributes": {"latency": 1000}}}},
        ],
    }


def quiet_experiment():
    return {"title": "no faults", "description": "rollback test",
            "method": [{"type": "action", "name": "noop",
                        "provider": {"type": "process", "path": "/bin/true"}}]}


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def toxics(proxy_server, name="web"):
    status, doc, _ = proxy_server.request("GET", f"/proxies/{name}/toxics")
    assert status == 200, doc
    return doc


def start_run(aftershock, *args):
    """Starts `aftershock run` in its own process group, so a group kill also ends the
    guardian that would otherwise resume the paused process."""
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([aftershock.bin, "run", "--no-record", *map(str, args)],
                            cwd=aftershock.cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_applied(proc, nginx, proxy_server, timeout=20):
    """Waits until nginx is stopped and the toxic is on the proxy."""
    deadline = time.monotonic() + timeout
    while process_state(nginx.pid) != "T" or not toxics(proxy_server):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the faults were never applied"
        time.sleep(0.01)


def assert_nothing_left(tmp_path, nginx, proxy_server, context):
    assert process_state(nginx.pid) != "T", f"nginx still paused ({context})"
    assert toxics(proxy_server) == [], f"toxic left on the proxy ({context})"
    assert ledger_contents(tmp_path) == [], f"ledger not empty ({context})"


@pytest.fixture
def web_proxy(proxy_server, nginx):
    proxy_server.create("web", f"127.0.0.1:{nginx.port}")
    return proxy_server


def kill_at_random_moment(proc, nginx, proxy_server, rng, signo, group):
    """Half the time while the run starts and applies its faults, else within about one
    second after both are in place."""
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0, 0.3))
    else:
        wait_applied(proc, nginx, proxy_server)
        time.sleep(rng.uniform(0, 1.0))
    if group:
        os.killpg(proc.pid, signo)
    else:
        proc.send_signal(signo)


def test_sigkill_then_rollback_leaves_nothing(aftershock, nginx, web_proxy, tmp_path):
    rng = random.Random(int(os.environ.get("AFTERSHOCK_TEST_SEED", time.time_ns())))
    write(tmp_path / "with-duration.json", fault_experiment(nginx.pid, web_proxy.url, "web"))
    write(tmp_path / "until-end.json",
          fault_experiment(nginx.pid, web_proxy.url, "web", pause_duration=None))

    for trial in range(KILL_TRIALS):
        experiment = "with-duration.json" if trial % 2 == 0 else "until-end.json"
        group = trial % 4 >= 2
        context = f"trial {trial}, {experiment}, group kill {group}"
        proc = start_run(aftershock, experiment)
        kill_at_random_moment(proc, nginx, web_proxy, rng, signal.SIGKILL, group)
        proc.wait(timeout=30)

        result = aftershock("rollback")

        assert result.returncode == 0, f"{context}: {result.stdout}{result.stderr}"
        assert_nothing_left(tmp_path, nginx, web_proxy, context)


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_leaves_nothing(aftershock, nginx, web_proxy, tmp_path, signo):
    rng = random.Random(int(os.environ.get("AFTERSHOCK_TEST_SEED", time.time_ns())))
    write(tmp_path / "with-duration.json", fault_experiment(nginx.pid, web_proxy.url, "web"))
    write(tmp_path / "until-end.json",
          fault_experiment(nginx.pid, web_proxy.url, "web", pause_duration=None))

    for trial in range(SIGNAL_TRIALS):
        experiment = "with-duration.json" if trial % 2 == 0 else "until-end.json"
        context = f"trial {trial}, {experiment}"
        proc = start_run(aftershock, experiment)
        kill_at_random_moment(proc, nginx, web_proxy, rng, signo, group=False)
        _, err = proc.communicate(timeout=60)

        # A signal that arrives before the handlers are installed ends the run before any fault.
        assert proc.returncode in (128 + signo, -signo), f"{context}: {err}"
        assert_nothing_left(tmp_path, nginx, web_proxy, context)


def test_run_refuses_while_live_run_holds_faults(aftershock, nginx, web_proxy, tmp_path):
    write(tmp_path / "faults.json",
          fault_experiment(nginx.pid, web_proxy.url, "web", pause_duration=None))
    write(tmp_path / "quiet.json", quiet_experiment())
    proc = start_run(aftershock, "faults.json")
    try:
        wait_applied(proc, nginx, web_proxy)

        refused = aftershock("run", "--no-record", "quiet.json")
        rollback = aftershock("rollback")
        ignored = aftershock("run", "--no-record", "--ignore-ledger", "quiet.json")

        assert refused.returncode == 3, refused.stderr
        assert f"run pid {proc.pid}" in refused.stderr
        assert "which is still running" in refused.stderr
        assert "--ignore-ledger" in refused.stderr
        assert rollback.returncode == 1, rollback.stdout + rollback.stderr
        assert "still running; pass --force" in rollback.stdout
        assert process_state(nginx.pid) == "T"
        assert len(toxics(web_proxy)) == 1
        assert ignored.returncode == 0, ignored.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert_nothing_left(tmp_path, nginx, web_proxy, "after SIGTERM")


def test_rollback_force_undoes_live_run(aftershock, nginx, web_proxy, tmp_path):
    write(tmp_path / "faults.json", fault_experiment(nginx.pid, web_proxy.url, "web"))
    proc = start_run(aftershock, "faults.json")
    try:
        wait_applied(proc, nginx, web_proxy)

        forced = aftershock("rollback", "--force")

        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert f"resumed pid {nginx.pid}" in forced.stdout
        assert "removed toxic 'latency_downstream' from proxy 'web'" in forced.stdout
        assert process_state(nginx.pid) != "T"
        assert toxics(web_proxy) == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert_nothing_left(tmp_path, nginx, web_proxy, "after SIGTERM")


def test_run_after_killed_run_offers_rollback(aftershock, nginx, web_proxy, tmp_path):
    write(tmp_path / "faults.json", fault_experiment(nginx.pid, web_proxy.url, "web"))
    write(tmp_path / "quiet.json", quiet_experiment())
    proc = start_run(aftershock, "faults.json")
    wait_applied(proc, nginx, web_proxy)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    refused = aftershock("run", "--no-record", "quiet.json")
    listed = aftershock("rollback", "--dry-run")

    assert refused.returncode == 3, refused.stderr
    assert "has ended without undoing them" in refused.stderr
    assert "run 'aftershock rollback'" in refused.stderr
    assert listed.returncode == 0, listed.stderr
    assert f"would resume pid {nginx.pid}" in listed.stdout
    assert "would remove toxic 'latency_downstream' from proxy 'web'" in listed.stdout
    assert process_state(nginx.pid) == "T"
    assert len(toxics(web_proxy)) == 1

    done = aftershock("rollback", "--json")

    assert done.returncode == 0, done.stderr
    outcomes = {f["kind"]: f["outcome"] for f in json.loads(done.stdout)["faults"]}
    assert outcomes == {"pause": "undone", "toxic": "undone"}
    assert_nothing_left(tmp_path, nginx, web_proxy, "after rollback")
    assert aftershock("run", "--no-record", "quiet.json").returncode == 0


# ---- hand-written ledger files ----

def host_identity():
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip()
    return boot_id, socket.gethostname()


def start_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def gone_pid():
    """A pid whose process has exited."""
    proc = subprocess.Popen(["/bin/true"])
    proc.wait()
    return proc.pid


def write_ledger(tmp_path, faults, run_pid=None, run_ticks=1):
    boot_id, host = host_identity()
    run_pid = run_pid or gone_pid()
    doc = {"format": "aftershock-fault-ledger", "version": 1,
           "run": {"pid": run_pid, "start_ticks": run_ticks, "boot_id": boot_id, "host": host,
                   "started_at": "2026-01-01T00:00:00.000000Z"},
           "faults": [dict(f, id=i + 1, experiment="exp.json",
                           applied_at="2026-01-01T00:00:01.000000Z") for i, f in enumerate(faults)]}
    folder = ledger_dir(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{run_pid}-{run_ticks}.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def stopped_sleeper():
    proc = subprocess.Popen(["sleep", "120"])
    os.kill(proc.pid, signal.SIGSTOP)
    yield proc
    os.kill(proc.pid, signal.SIGCONT)
    proc.kill()
    proc.wait()


def wait_state(pid, want, timeout=10):
    deadline = time.monotonic() + timeout
    while (process_state(pid) == "T") != (want == "T"):
        assert time.monotonic() < deadline, f"pid {pid} never reached state {want}"
        time.sleep(0.01)


def test_reused_pid_is_dropped_not_signalled(aftershock, tmp_path, stopped_sleeper):
    wait_state(stopped_sleeper.pid, "T")
    ticks = start_ticks(stopped_sleeper.pid)
    write_ledger(tmp_path, [{"kind": "pause", "pid": stopped_sleeper.pid,
                             "start_ticks": ticks + 1}])

    result = aftershock("rollback")

    assert result.returncode == 0, result.stderr
    assert f"pid {stopped_sleeper.pid} now belongs to another process" in result.stdout
    assert "not signalled" in result.stdout
    time.sleep(0.2)
    assert process_state(stopped_sleeper.pid) == "T"
    assert ledger_contents(tmp_path) == []


def test_recorded_pid_is_resumed(aftershock, tmp_path, stopped_sleeper):
    wait_state(stopped_sleeper.pid, "T")
    write_ledger(tmp_path, [{"kind": "pause", "pid": stopped_sleeper.pid,
                             "start_ticks": start_ticks(stopped_sleeper.pid)},
                            {"kind": "pause", "pid": gone_pid(), "start_ticks": 5}])

    result = aftershock("rollback")

    assert result.returncode == 0, result.stderr
    assert f"resumed pid {stopped_sleeper.pid}" in result.stdout
    assert "is gone; nothing to resume" in result.stdout
    wait_state(stopped_sleeper.pid, "S")
    assert ledger_contents(tmp_path) == []


def test_live_run_with_reused_pid_counts_as_gone(aftershock, tmp_path, stopped_sleeper):
    # The run's pid is alive (this test process) but its start time differs: another process.
    write_ledger(tmp_path, [{"kind": "pause", "pid": stopped_sleeper.pid,
                             "start_ticks": start_ticks(stopped_sleeper.pid)}],
                 run_pid=os.getpid(), run_ticks=start_ticks(os.getpid()) + 7)

    result = aftershock("rollback")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"resumed pid {stopped_sleeper.pid}" in result.stdout


def test_unreachable_api_counts_as_gone(aftershock, tmp_path):
    api = f"http://127.0.0.1:{free_port()}"
    write_ledger(tmp_path, [{"kind": "toxic", "api": api, "proxy": "web",
                             "toxic": "latency_downstream"}])

    result = aftershock("rollback")

    assert result.returncode == 0, result.stderr
    assert f"the API at {api} refuses connections" in result.stdout
    assert ledger_contents(tmp_path) == []


def test_failed_undo_stays_in_ledger(aftershock, tmp_path, tcp_server):
    def broken_api(conn):
        conn.recv(65536)
        body = b'{"error": "disk on fire", "status": 500}'
        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    server = tcp_server(broken_api)
    path = write_ledger(tmp_path, [{"kind": "toxic", "api": f"http://{server.address}",
                                    "proxy": "web", "toxic": "slow"}])

    result = aftershock("rollback")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot remove toxic 'slow' from proxy 'web'" in result.stdout
    assert "disk on fire" in result.stdout
    kept = json.loads(path.read_text())
    assert [f["toxic"] for f in kept["faults"]] == ["slow"]


@pytest.mark.parametrize("text,words", [
    ("{not json", "not valid JSON"),
    ('{"format": "other", "version": 1}', "format is not 'aftershock-fault-ledger'"),
    ('{"format": "aftershock-fault-ledger", "version": 99}', "version is not 1"),
    ('{"format": "aftershock-fault-ledger", "version": 1, "run": {"pid": 5}}',
     "run.start_ticks is missing"),
])
def test_malformed_ledger_file_is_reported(aftershock, tmp_path, text, words):
    folder = ledger_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "run-5-5.json").write_text(text)
    write(tmp_path / "quiet.json", quiet_experiment())

    rollback = aftershock("rollback")
    run = aftershock("run", "--no-record", "quiet.json")

    assert rollback.returncode == 2, rollback.stderr
    assert "ledger file 'reports/.ledger/run-5-5.json' is not valid" in rollback.stderr
    assert words in rollback.stderr
    assert run.returncode == 3, run.stderr
    assert words in run.stderr
    assert (folder / "run-5-5.json").exists()


def test_unknown_fault_kind_is_reported(aftershock, tmp_path):
    path = write_ledger(tmp_path, [{"kind": "disk", "path": "/tmp/x"}])

    result = aftershock("rollback")

    assert result.returncode == 2
    assert "faults[0].kind 'disk' is unknown: expected pause, toxic, stress-worker or fill" \
        in result.stderr
    assert path.exists()


def test_ledger_dir_option_and_environment(aftershock, tmp_path, stopped_sleeper):
    elsewhere = tmp_path / "elsewhere"
    path = write_ledger(tmp_path, [{"kind": "pause", "pid": stopped_sleeper.pid,
                                    "start_ticks": start_ticks(stopped_sleeper.pid)}])
    elsewhere.mkdir()
    path.rename(elsewhere / path.name)

    default = aftershock("rollback", "--dry-run")
    from_env = aftershock("rollback", "--dry-run", env={"AFTERSHOCK_LEDGER_DIR": str(elsewhere)})
    from_option = aftershock("rollback", "--ledger-dir", elsewhere)

    assert "is empty: nothing to roll back" in default.stdout
    assert f"would resume pid {stopped_sleeper.pid}" in from_env.stdout
    assert from_option.returncode == 0, from_option.stderr
    assert f"resumed pid {stopped_sleeper.pid}" in from_option.stdout
    assert list(elsewhere.iterdir()) == []


def test_rollback_rejects_arguments(aftershock):
    result = aftershock("rollback", "extra")
    assert result.returncode == 2
    assert "takes no arguments" in result.stderr


def test_unwritable_ledger_blocks_fault(aftershock, nginx, tmp_path):
    doc = {"title": "pause", "description": "rollback test",
           "method": [{"type": "action", "name": "pause nginx", "provider": {
               "type": "signal", "pid": nginx.pid, "signal": "STOP", "duration": 1}}]}
    write(tmp_path / "pause.json", doc)

    result = aftershock("run", "--no-record", "--ledger-dir", "/proc/aftershock-ledger",
                        "pause.json")

    record = json.loads((tmp_path / "journal.json").read_text())["run"][0]
    assert record["status"] == "failed", result.stderr
    assert "cannot record the fault in the ledger, so it was not applied" in record["exception"][0]
    assert "sent signal=STOP" not in result.stderr
    assert process_state(nginx.pid) != "T"


def test_fault_left_by_run_fails_it(aftershock, nginx, web_proxy, tmp_path):
    # The proxy server stops during the run, so the run cannot remove its toxic at the end.
    doc = {"title": "proxy goes away", "description": "rollback test", "method": [
        {"type": "action", "name": "slow proxy", "provider": {
            "type": "toxic", "action": "add", "proxy": "web", "api": web_proxy.url,
            "toxic": {"type": "latency", "attributes": {"latency": 10}}}},
        {"type": "action", "name": "stop proxy", "pauses": {"after": 1}, "provider": {
            "type": "process", "path": "/bin/kill", "arguments": ["-TERM", str(web_proxy.pid)]}},
    ]}
    write(tmp_path / "exp.json", doc)

    run = aftershock("run", "--no-record", "exp.json")

    assert run.returncode == 3, run.stderr
    assert "undo them with 'aftershock rollback'" in run.stderr
    assert len(ledger_contents(tmp_path)) == 1

    rollback = aftershock("rollback")

    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert f"the API at {web_proxy.url} refuses connections" in rollback.stdout
    assert ledger_contents(tmp_path) == []


def test_concurrent_runs_keep_separate_files(aftershock, tmp_path):
    sleepers = [subprocess.Popen(["sleep", "120"]) for _ in range(2)]
    runs = []
    try:
        for i, sleeper in enumerate(sleepers):
            doc = {"title": f"pause {i}", "description": "rollback test", "method": [
                {"type": "action", "name": "pause", "pauses": {"after": 30}, "provider": {
                    "type": "signal", "pid": sleeper.pid, "signal": "STOP"}}]}
            write(tmp_path / f"exp{i}.json", doc)
            runs.append(start_run(aftershock, "--ignore-ledger", "--journal-path",
                                  f"journal{i}.json", f"exp{i}.json"))
        for sleeper in sleepers:
            wait_state(sleeper.pid, "T")

        files = [f for f in ledger_contents(tmp_path) if f.startswith("run-")]
        assert len(files) == 2
        recorded = sorted(json.loads((ledger_dir(tmp_path) / f).read_text())["faults"][0]["pid"]
                          for f in files)
        assert recorded == sorted(s.pid for s in sleepers)

        for run in runs:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
        result = aftershock("rollback")

        assert result.returncode == 0, result.stdout + result.stderr
        for sleeper in sleepers:
            assert f"resumed pid {sleeper.pid}" in result.stdout
            wait_state(sleeper.pid, "S")
        assert ledger_contents(tmp_path) == []
    finally:
        for run in runs:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        for sleeper in sleepers:
            os.kill(sleeper.pid, signal.SIGCONT)
            sleeper.kill()
            sleeper.wait()
