"""The rollback guarantee: a run that pauses a process, adds a toxic and fills a file, killed at a
random moment while those faults are active, leaves none of them behind. After SIGKILL that takes
one `aftershock rollback`; after SIGTERM or SIGINT the run undoes them itself."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import process_state

TRIALS = 50
# Seconds each fault stays; kills land within this window.
FAULT_SECONDS = 2


def ledger_files(tmp_path):
    folder = tmp_path / "reports" / ".ledger"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


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


def seeded_random():
    seed = int(os.environ.get("AFTERSHOCK_TEST_SEED", time.time_ns()))
    print(f"seed {seed}")
    return random.Random(seed)


def test_sigkill_then_rollback_undoes_all(aftershock, setup, tmp_path):
    rng = seeded_random()
    fill = tmp_path / "disk" / "fill.bin"

    for trial in range(TRIALS):
        group = trial % 2 == 1
        context = f"trial {trial}, group kill {group}"
        proc = start_run(aftershock, ["--no-record"])
        kill_at_random_moment(proc, setup, fill, rng, signal.SIGKILL, group)
        proc.wait(timeout=60)

        result = aftershock("rollback")

        assert result.returncode == 0, f"{context}: {result.stdout}{result.stderr}"
        assert_nothing_left(tmp_path, setup, context)


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_undoes_all(aftershock, setup, tmp_path, signo):
    rng = seeded_random()
    fill = tmp_path / "disk" / "fill.bin"

    for trial in range(TRIALS):
        context = f"trial {trial}"
        proc = start_run(aftershock, ["--no-record"])
        kill_at_random_moment(proc, setup, fill, rng, signo, group=False)
        _, err = proc.communicate(timeout=60)

        # A signal that arrives before the handlers are installed ends the run before any fault.
        assert proc.returncode in (128 + signo, -signo), f"{context}: {err}"
        assert_nothing_left(tmp_path, setup, context)
