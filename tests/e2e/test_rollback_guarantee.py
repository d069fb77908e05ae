"""The rollback guarantee: a run that pauses a process, adds a toxic and fills a file, killed at a
random moment while those faults are active, leaves none of them behind. After SIGKILL that takes
one `aftershock rollback`; after SIGTERM or SIGINT the run undoes them itself. The ledger is
checked both in state files (--no-record) and in the history store the run records in."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import process_state

TRIALS = 50
# Seconds each fault stays; kills land within this window.
FAULT_SECONDS = 2


# How the run is started for each place the ledger can be kept.
LEDGERS = {"files": ["--no-record"], "store": []}


def ledger_files(tmp_path):
    folder = tmp_path / "reports" / ".ledger"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def store_rows(tmp_path):
    store = tmp_path / "reports" / "chaos_history.db"
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        # A run killed while it created the store leaves it without tables.
        if not db.execute("SELECT name FROM sqlite_master WHERE name = 'chaos_fault_ledger'") \
                .fetchall():
            return []
        return db.execute("SELECT run_key, kinds FROM chaos_fault_ledger").fetchall()


def experiment(nginx_pid, api):
    """Pauses nginx in the background, adds a latency toxic, then fills a file; all three are
    active together for about FAULT_SECONDS."""
    return {
        "title": "pause, toxic and fill", "description": "rollback guarantee",
        "method": [
            {"type": "action", "name": "pause nginx", "background": True,
             "provider": {"type": "signal", "pid": nginx_pid, "signal": "STOP",
                          "duration": FAULT_SECONDS + 1}},
            {"type": "action", "name": "slow proxy",
             "provider": {"type": "toxic", "action": "add", "proxy": "web", "api": api,
                          "toxic": {"type": "latency", "attributes": {"latency": 1000}}}},
            {"type": "action", "name": "fill disk",
             "provider": {"type": "stress", "duration": FAULT_SECONDS,
                          "fill": {"folder": "disk", "file": "fill.bin", "size": "1MiB"}}},
        ],
    }


@pytest.fixture
def setup(tmp_path, nginx, proxy_server, aftershock):
    proxy_server.create("web", f"127.0.0.1:{nginx.port}")
    (tmp_path / "disk").mkdir()
    (tmp_path / "faults.json").write_text(json.dumps(experiment(nginx.pid, proxy_server.url)))
    return nginx, proxy_server


def toxics(proxy_server):
    status, doc, _ = proxy_server.request("GET", "/proxies/web/toxics")
    assert status == 200, doc
    return doc


def start_run(aftershock, extra):
    """Starts the run in its own process group, so a group kill also ends the guardian that
    would otherwise resume nginx."""
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([aftershock.bin, "run", *extra, "faults.json"], cwd=aftershock.cwd,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_all_applied(proc, nginx, proxy_server, fill, timeout=30):
    deadline = time.monotonic() + timeout
    while process_state(nginx.pid) != "T" or not toxics(proxy_server) or not fill.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the faults were never all applied"
        time.sleep(0.01)


def kill_at_random_moment(proc, setup, fill, rng, signo, group):
    """A quarter of the time while the faults are being applied, else at a random moment
    while all three are active."""
    nginx, proxy_server = setup
    if rng.random() < 0.25:
        time.sleep(rng.uniform(0, 0.3))
    else:
        wait_all_applied(proc, nginx, proxy_server, fill)
        time.sleep(rng.uniform(0, FAULT_SECONDS * 0.8))
    if group:
        os.killpg(proc.pid, signo)
    else:
        proc.send_signal(signo)


def assert_nothing_left(tmp_path, setup, context):
    nginx, proxy_server = setup
    assert process_state(nginx.pid) != "T", f"nginx still paused ({context})"
    assert toxics(proxy_server) == [], f"toxic left on the proxy ({context})"
    assert list((tmp_path / "disk").iterdir()) == [], f"fill file left ({context})"
    assert ledger_files(tmp_path) == [], f"ledger not empty ({context})"
    assert store_rows(tmp_path) == [], f"ledger rows left in the store ({context})"


def seeded_random():
    seed = int(os.environ.get("AFTERSHOCK_TEST_SEED", time.time_ns()))
    print(f"seed {seed}")
    return random.Random(seed)


@pytest.mark.parametrize("ledger", LEDGERS)
def test_sigkill_then_rollback_undoes_all(aftershock, setup, tmp_path, ledger):
    rng = seeded_random()
    fill = tmp_path / "disk" / "fill.bin"
    left_in_ledger = 0

    for trial in range(TRIALS):
        group = trial % 2 == 1
        context = f"trial {trial}, group kill {group}, ledger in {ledger}"
        proc = start_run(aftershock, LEDGERS[ledger])
        kill_at_random_moment(proc, setup, fill, rng, signal.SIGKILL, group)
        proc.wait(timeout=60)
        left_in_ledger += len(ledger_files(tmp_path)) + len(store_rows(tmp_path))

        result = aftershock("rollback")

        assert result.returncode == 0, f"{context}: {result.stdout}{result.stderr}"
        assert_nothing_left(tmp_path, setup, context)
    # Most kills land while faults are active, so rollback had work to do.
    assert left_in_ledger >= TRIALS // 2


@pytest.mark.parametrize("ledger", LEDGERS)
@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_undoes_all(aftershock, setup, tmp_path, signo, ledger):
    rng = seeded_random()
    fill = tmp_path / "disk" / "fill.bin"

    for trial in range(TRIALS):
        context = f"trial {trial}, ledger in {ledger}"
        proc = start_run(aftershock, LEDGERS[ledger])
        kill_at_random_moment(proc, setup, fill, rng, signo, group=False)
        _, err = proc.communicate(timeout=60)

        # A signal that arrives before the handlers are installed ends the run before any fault.
        assert proc.returncode in (128 + signo, -signo), f"{context}: {err}"
        assert_nothing_left(tmp_path, setup, context)


def test_postgres_ledger_blocks_run_until_rollback(aftershock, setup, tmp_path, postgres_server,
                                                  postgres_db):
    fill = tmp_path / "disk" / "fill.bin"
    nginx, proxy_server = setup
    proc = start_run(aftershock, ["--db", postgres_db])
    wait_all_applied(proc, nginx, proxy_server, fill)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    rows = postgres_server.psql(postgres_db, "SELECT run_pid, fault_count, kinds FROM "
                                             "chaos_fault_ledger")

    refused = aftershock("run", "--db", postgres_db, "faults.json")
    default_rollback = aftershock("rollback")
    rollback = aftershock("rollback", "--db", postgres_db)

    assert rows.strip() == f"{proc.pid}|3|pause,toxic,fill"
    assert refused.returncode == 3, refused.stderr
    assert f"run pid {proc.pid}" in refused.stderr
    assert "has ended without undoing them" in refused.stderr
    assert "run 'aftershock rollback' with the same --db" in refused.stderr
    assert default_rollback.returncode == 0, default_rollback.stderr
    assert "is empty: nothing to roll back" in default_rollback.stdout
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert "removed fill file 'fill.bin'" in rollback.stdout
    assert "removed toxic" in rollback.stdout
    assert ledger_files(tmp_path) == []
    assert process_state(nginx.pid) != "T"
    assert toxics(proxy_server) == []
    assert not fill.exists()
    assert postgres_server.psql(postgres_db, "SELECT COUNT(*) FROM chaos_fault_ledger").strip() \
        == "0"


def test_store_ledger_blocks_run_while_live(aftershock, tmp_path):
    (tmp_path / "disk").mkdir()
    (tmp_path / "long.json").write_text(json.dumps({
        "title": "long fill", "description": "rollback guarantee",
        "method": [{"type": "action", "name": "fill disk",
                    "provider": {"type": "stress", "duration": 60,
                                 "fill": {"folder": "disk", "file": "fill.bin",
                                          "size": "1MiB"}}}]}))
    (tmp_path / "quiet.json").write_text(json.dumps({
        "title": "no faults", "description": "rollback guarantee",
        "method": [{"type": "action", "name": "noop",
                    "provider": {"type": "process", "path": "/bin/true"}}]}))
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([aftershock.bin, "run", "--journal-path", "long-journal.json",
                             "long.json"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not store_rows(tmp_path):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the fill file never reached the store ledger"
            time.sleep(0.05)

        refused = aftershock("run", "quiet.json")
        rollback = aftershock("rollback")
        rows = store_rows(tmp_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)

    assert refused.returncode == 3, refused.stderr
    assert "chaos_history.db, run " in refused.stderr
    assert f"of run pid {proc.pid}" in refused.stderr
    assert "which is still running" in refused.stderr
    assert rollback.returncode == 1, rollback.stdout + rollback.stderr
    assert "still running; pass --force" in rollback.stdout
    assert [kinds for _, kinds in rows] == ["fill"]
    assert ledger_files(tmp_path) == []
    assert proc.returncode == 143, err
    assert store_rows(tmp_path) == []
    assert list((tmp_path / "disk").iterdir()) == []


def test_rollback_store_that_cannot_open(aftershock, tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "chaos_history.db").write_text("not a database\n")

    default = aftershock("rollback")
    chosen = aftershock("rollback", "--db", "reports/chaos_history.db")
    from_env = aftershock("rollback", env={"AFTERSHOCK_DB": "reports/chaos_history.db"})

    assert default.returncode == 0, default.stderr
    assert "warning: the fault ledger in the history store was not checked" in default.stderr
    assert chosen.returncode == 3, chosen.stderr
    assert "error: history store 'reports/chaos_history.db' is corrupt" in chosen.stderr
    assert from_env.returncode == 3, from_env.stderr
