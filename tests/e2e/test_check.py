"""End-to-end tests of `aftershock check`: fixture repositories with each of the seven problems
planted, one at a time and all at once; --fix, --json, --only/--skip, and --install-hook."""
import hashlib
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import process_state

STORE = "reports/chaos_history.db"
LEDGER = "reports/.ledger"
WORKFLOW = ".github/workflows/chaos-validation-self-healing.yml"

VALID_EXPERIMENT = """\
title: service answers
description: the probe script passes before and after a no-op action
configuration:
  greeting: hello
  region:
    type: env
    key: AFTERSHOCK_CHECK_REGION
    default: eu
steady-state-hypothesis:
  title: probe passes
  probes:
    - type: probe
      name: probe-script
      tolerance: 0
      provider:
        type: process
        path: scripts/probe.sh
        arguments: ["${greeting}", "${region}"]
method:
  - type: action
    name: wait
    provider: {type: process, path: /bin/true}
"""


def deps_built(runner):
    """True once `aftershock deps` understands --format json (check 3 needs it)."""
    result = runner("deps", "--help")
    return result.returncode == 0 and "--format" in result.stdout


def make_repo(root, runner):
    """A repository on which every check passes."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "aftershock.yaml").write_text(
        "experiments: [experiments]\nrequirements: [requirements.txt]\n"
        f"store: {STORE}\nledger_dir: {LEDGER}\n")
    (root / "experiments").mkdir()
    (root / "experiments" / "service.yaml").write_text(VALID_EXPERIMENT)
    (root / "scripts").mkdir()
    probe = root / "scripts" / "probe.sh"
    probe.write_text("#!/bin/sh\nexit 0\n")
    probe.chmod(0o755)
    (root / "requirements.txt").write_text("PyYAML\n")
    (root / "app.py").write_text("import os\nimport yaml\n")
    (root / "reports").mkdir()
    result = runner("ci", "init")
    assert result.returncode == 0, result.stderr
    return root


def tree_hash(root):
    """Hash of every path, mode and content under root except .git."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts:
            continue
        info = path.lstat()
        digest.update(str(path.relative_to(root)).encode())
        digest.update(str(stat.S_IMODE(info.st_mode)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def results(proc):
    assert proc.stdout, proc.stderr
    doc = json.loads(proc.stdout)
    return {c["id"]: c for c in doc["checks"]}, doc


@pytest.fixture
def repo(tmp_path, aftershock):
    root = make_repo(tmp_path, aftershock)
    aftershock.env_selection = [] if deps_built(aftershock) else ["--skip", "3"]
    return root


def run_check(aftershock, *args):
    return aftershock("check", "--json", *aftershock.env_selection, *args,
                      env={"AFTERSHOCK_DB": "", "AFTERSHOCK_LEDGER_DIR": ""})


# ---- plants: each returns (check id, fixable, text the failure must contain) ----

def plant_invalid_experiment(root):
    (root / "experiments" / "broken.yaml").write_text(
        "title: broken\ndescription: no method\nmethod: []\nrollbacks: 3\n")
    return 1, False, "broken.yaml"


def plant_unresolved_reference(root):
    (root / "experiments" / "unresolved.yaml").write_text(
        VALID_EXPERIMENT.replace("title: service answers", "title: unresolved")
        .replace("default: eu\n", "")
        .replace("AFTERSHOCK_CHECK_REGION", "AFTERSHOCK_CHECK_UNSET_VARIABLE"))
    return 2, False, "AFTERSHOCK_CHECK_UNSET_VARIABLE"


def plant_undeclared_import(root):
    (root / "worker.py").write_text("import requests\n")
    return 3, True, "requests"


def plant_non_executable_script(root):
    (root / "scripts" / "probe.sh").chmod(0o644)
    return 4, True, "scripts/probe.sh"


def plant_missing_workflow(root):
    (root / WORKFLOW).unlink()
    return 5, True, WORKFLOW


def plant_outdated_store(root):
    # A SQLite file without the schema: version 0, which --fix migrates.
    with sqlite3.connect(root / STORE) as db:
        db.execute("PRAGMA user_version = 0")
        db.execute("CREATE TABLE unrelated (x INTEGER)")
    return 6, True, "schema version 0"


def ledger_document(sleeper):
    """A ledger of a run that is gone, holding the pause of the sleeper."""
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip()
    gone = subprocess.Popen(["/bin/true"])
    gone.wait()
    with open(f"/proc/{sleeper.pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    return {"format": "aftershock-fault-ledger", "version": 1,
            "run": {"pid": gone.pid, "start_ticks": 1, "boot_id": boot_id,
                    "host": socket.gethostname(), "started_at": "2026-01-01T00:00:00.000000Z"},
            "faults": [{"id": 1, "kind": "pause", "experiment": "experiments/service.yaml",
                        "applied_at": "2026-01-01T00:00:01.000000Z", "pid": sleeper.pid,
                        "start_ticks": ticks}]}


def plant_active_fault(root, sleeper):
    doc = ledger_document(sleeper)
    folder = root / LEDGER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"run-{doc['run']['pid']}-1.json").write_text(json.dumps(doc))
    return 7, True, "active fault"


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "300"])
    os.kill(proc.pid, signal.SIGSTOP)
    yield proc
    os.kill(proc.pid, signal.SIGCONT)
    proc.kill()
    proc.wait()


PLANTS = [plant_invalid_experiment, plant_unresolved_reference, plant_undeclared_import,
          plant_non_executable_script, plant_missing_workflow, plant_outdated_store]


def test_clean_repository_passes(repo, aftershock):
    proc = run_check(aftershock)
    checks, doc = results(proc)
    assert proc.returncode == 0, proc.stdout
    assert doc["passed"] is True
    for check_id, check in checks.items():
        if check_id == 3 and "--skip" in aftershock.env_selection:
            assert check["status"] == "skipped"
        else:
            assert check["status"] == "passed", check


def test_text_output_one_line_per_check(repo, aftershock):
    proc = aftershock("check", "--skip", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6
    assert [line.split()[1] for line in lines] == ["1", "2", "4", "5", "6", "7"]
    assert all(line.startswith("passed") for line in lines)


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.__name__)
def test_one_problem_found_then_fixed(repo, aftershock, plant):
    check_id, fixable, text = plant(repo)
    if check_id == 3 and not deps_built(aftershock):
        # Until `deps` is built, check 3 must fail and report that it could not run.
        proc = aftershock("check", "--json", "--only", "3")
        checks, _ = results(proc)
        assert proc.returncode == 1
        assert checks[3]["status"] == "failed"
        assert "could not run" in checks[3]["reason"]
        return

    before = tree_hash(repo)
    proc = run_check(aftershock)
    checks, doc = results(proc)
    assert proc.returncode == 1, proc.stdout
    assert doc["passed"] is False
    assert checks[check_id]["status"] == "failed", checks[check_id]
    assert text in checks[check_id]["reason"] + " ".join(checks[check_id]["problems"])
    assert checks[check_id]["fix"]
    others = [c for i, c in checks.items() if i != check_id and c["status"] == "failed"]
    assert others == [], others
    assert tree_hash(repo) == before, "a check changed the repository without --fix"

    fixed = run_check(aftershock, "--fix")
    checks, _ = results(fixed)
    if fixable:
        assert fixed.returncode == 0, fixed.stdout
        assert checks[check_id]["status"] == "fixed"
        assert checks[check_id]["changes"]
        again = run_check(aftershock)
        checks, _ = results(again)
        assert again.returncode == 0, again.stdout
        assert checks[check_id]["status"] == "passed"
    else:
        assert fixed.returncode == 1
        assert checks[check_id]["status"] == "failed"


def test_active_fault_found_then_rolled_back(repo, aftershock, sleeper):
    check_id, _, text = plant_active_fault(repo, sleeper)
    before = tree_hash(repo)
    proc = run_check(aftershock)
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert checks[7]["status"] == "failed"
    assert text in checks[7]["reason"]
    assert "1 active fault of run" in checks[7]["reason"]
    assert "has ended without undoing it" in checks[7]["reason"]
    assert "undoes it" in checks[7]["fix"]
    assert process_state(sleeper.pid) == "T"
    assert tree_hash(repo) == before

    fixed = run_check(aftershock, "--fix")
    checks, _ = results(fixed)
    assert fixed.returncode == 0, fixed.stdout
    assert checks[7]["status"] == "fixed"
    deadline = time.monotonic() + 30
    while process_state(sleeper.pid) == "T":
        assert time.monotonic() < deadline, "rollback did not resume the paused process"
        time.sleep(0.05)
    again = run_check(aftershock)
    assert again.returncode == 0, again.stdout


def test_active_fault_in_store_rolled_back(repo, aftershock, sleeper):
    created = run_check(aftershock, "--fix", "--only", "6")
    assert created.returncode == 0, created.stdout
    doc = ledger_document(sleeper)
    run = doc["run"]
    with sqlite3.connect(repo / STORE) as db:
        db.execute("INSERT INTO chaos_fault_ledger (run_key, host, run_pid, started_at,"
                   " fault_count, kinds, document, updated_ms) VALUES (?, ?, ?, ?, 1, 'pause',"
                   " ?, 0)",
                   (f"{run['host']}/{run['boot_id']}/{run['pid']}-1", run["host"], run["pid"],
                    run["started_at"], json.dumps(doc)))
    proc = run_check(aftershock, "--only", "7")
    checks, _ = results(proc)
    assert proc.returncode == 1, proc.stdout
    assert "in history store 'reports/chaos_history.db'" in checks[7]["reason"]
    assert process_state(sleeper.pid) == "T"

    fixed = run_check(aftershock, "--fix", "--only", "7")
    checks, _ = results(fixed)
    assert fixed.returncode == 0, fixed.stdout
    assert checks[7]["status"] == "fixed"
    deadline = time.monotonic() + 30
    while process_state(sleeper.pid) == "T":
        assert time.monotonic() < deadline, "rollback did not resume the paused process"
        time.sleep(0.05)
    assert run_check(aftershock, "--only", "7").returncode == 0


def test_all_problems_at_once(repo, aftershock, sleeper):
    planted = [plant(repo) for plant in PLANTS] + [plant_active_fault(repo, sleeper)]
    selection = aftershock.env_selection
    before = tree_hash(repo)
    proc = run_check(aftershock)
    checks, _ = results(proc)
    assert proc.returncode == 1
    for check_id, _, text in planted:
        if check_id == 3 and selection:
            continue
        assert checks[check_id]["status"] == "failed", checks[check_id]
        assert text in checks[check_id]["reason"] + " ".join(checks[check_id]["problems"])
    assert tree_hash(repo) == before

    fixed = run_check(aftershock, "--fix")
    checks, _ = results(fixed)
    for check_id, fixable, _ in planted:
        if check_id == 3 and selection:
            continue
        assert checks[check_id]["status"] == ("fixed" if fixable else "failed"), checks[check_id]

    # Remove the two problems --fix must leave alone; then everything passes.
    (repo / "experiments" / "broken.yaml").unlink()
    (repo / "experiments" / "unresolved.yaml").unlink()
    again = run_check(aftershock)
    assert again.returncode == 0, again.stdout


def test_fix_leaves_files_outside_repository(repo, aftershock, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "tool.sh"
    outside.write_text("#!/bin/sh\nexit 0\n")
    outside.chmod(0o644)
    (repo / "experiments" / "outside.yaml").write_text(
        VALID_EXPERIMENT.replace("title: service answers", "title: outside")
        .replace("/bin/true", str(outside)))
    proc = run_check(aftershock, "--fix", "--only", "4")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert checks[4]["status"] == "failed"
    assert "outside the repository" in " ".join(checks[4]["problems"])
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644


def test_newer_store_is_not_touched(repo, aftershock):
    with sqlite3.connect(repo / STORE) as db:
        db.execute("PRAGMA user_version = 999")
    before = tree_hash(repo)
    proc = run_check(aftershock, "--fix", "--only", "store")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "newer" in checks[6]["reason"]
    assert tree_hash(repo) == before


def test_missing_store_folder_is_created(repo, aftershock):
    # `run` creates reports/ by itself: a fresh repository passes, with a note.
    (repo / "reports").rmdir()
    proc = run_check(aftershock, "--only", "6")
    checks, _ = results(proc)
    assert proc.returncode == 0, proc.stdout
    assert checks[6]["status"] == "passed"
    assert "the first run creates it and its folder 'reports'" in checks[6]["reason"]
    assert not (repo / "reports").exists()
    fixed = run_check(aftershock, "--fix", "--only", "6")
    assert fixed.returncode == 0, fixed.stdout
    assert (repo / STORE).exists()


def test_store_folder_that_cannot_be_created_fails(repo, aftershock):
    (repo / "reports").rmdir()
    (repo / "reports").write_text("a file where the folder should be\n")
    proc = run_check(aftershock, "--only", "6")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "cannot be created: 'reports' is not a folder" in checks[6]["reason"]
    (repo / "aftershock.yaml").write_text(
        "experiments: [experiments]\nstore: reports/deeper/history.db\n")
    proc = run_check(aftershock, "--only", "6")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "'reports' is not a folder" in checks[6]["reason"]


def test_broken_workflow_is_not_overwritten(repo, aftershock):
    path = repo / WORKFLOW
    path.write_text("name: other\n\"on\": [push]\njobs:\n  build:\n    runs-on: x\n"
                    "    steps: [{run: make}]\n")
    before = path.read_text()
    proc = run_check(aftershock, "--fix", "--only", "5")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "dependency" in " ".join(checks[5]["problems"])
    assert "pull_request" in " ".join(checks[5]["problems"])
    assert "ci init --force" in checks[5]["fix"]
    assert path.read_text() == before

    path.write_text("jobs: [unclosed\n")
    proc = run_check(aftershock, "--only", "5")
    checks, _ = results(proc)
    assert "does not parse" in checks[5]["reason"]


def test_missing_trigger_names_the_trigger_and_its_fix(repo, aftershock):
    path = repo / WORKFLOW
    text = path.read_text()
    start = text.index("  schedule:\n")
    end = text.index("  workflow_dispatch:\n")
    path.write_text(text[:start] + text[end:])
    proc = run_check(aftershock, "--only", "5")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert checks[5]["reason"].startswith("the CI workflow misses a trigger:")
    assert "'schedule' trigger" in checks[5]["reason"]
    assert "0 3 * * 0" in checks[5]["problems"][0]
    assert "triggers under `on`" in checks[5]["fix"]
    assert "stages" not in checks[5]["fix"]


def test_deps_failure_is_reported(repo, aftershock):
    # A requirements file that includes a missing file makes `deps` exit 2 (or, before deps
    # is built, the command itself fails): check 3 must fail with the reason, never pass.
    (repo / "requirements.txt").write_text("-r does-not-exist.txt\n")
    proc = aftershock("check", "--json", "--only", "3")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert checks[3]["status"] == "failed"
    assert "could not run" in checks[3]["reason"]
    if deps_built(aftershock):
        assert "does-not-exist.txt" in checks[3]["reason"]


def test_every_unresolved_reference_is_listed(repo, aftershock):
    (repo / "experiments" / "service.yaml").write_text(
        VALID_EXPERIMENT.replace("default: eu\n", "")
        .replace("AFTERSHOCK_CHECK_REGION", "AFTERSHOCK_CHECK_UNSET_VARIABLE")
        .replace('arguments: ["${greeting}", "${region}"]',
                 'arguments: ["${greeting}", "${region}", "${undefined_thing}"]'))
    proc = run_check(aftershock, "--only", "2")
    checks, _ = results(proc)
    assert proc.returncode == 1
    problems = checks[2]["problems"]
    assert len(problems) == 2, problems
    assert "AFTERSHOCK_CHECK_UNSET_VARIABLE" in problems[0]
    assert "undefined_thing" in problems[1]
    assert not any("greeting" in p or "${region}" in p for p in problems)


def test_only_two_invalid_file_hint(repo, aftershock):
    plant_invalid_experiment(repo)
    proc = run_check(aftershock, "--only", "2")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "not checked because it is invalid" in checks[2]["reason"]
    assert "--only 1" in checks[2]["fix"]
    assert "environment variable" not in checks[2]["fix"]


def test_only_and_skip_select_checks(repo, aftershock):
    proc = aftershock("check", "--json", "--only", "1,store")
    checks, _ = results(proc)
    assert [i for i, c in checks.items() if c["status"] != "skipped"] == [1, 6]
    proc = aftershock("check", "--json", "--skip", "1,2,3,4,5,6")
    checks, _ = results(proc)
    assert [i for i, c in checks.items() if c["status"] != "skipped"] == [7]


@pytest.mark.parametrize("args", [["--only", "8"], ["--skip", "x"], ["--only", ""],
                                  ["--force"], ["a", "b"]])
def test_bad_options_are_usage_errors(repo, aftershock, args):
    proc = aftershock("check", *args)
    assert proc.returncode == 2
    assert "error:" in proc.stderr


def test_invalid_configuration_names_key(repo, aftershock):
    (repo / "aftershock.yaml").write_text("experiments: experiments\nhealth-targets: []\n")
    proc = aftershock("check")
    assert proc.returncode == 2
    assert "health-targets" in proc.stderr
    assert "health_targets" in proc.stderr


def test_no_experiments_fails_check_one(repo, aftershock):
    (repo / "aftershock.yaml").write_text("experiments: [nothing-here]\n")
    proc = aftershock("check", "--json", "--only", "1")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "no experiment file" in checks[1]["reason"]


def test_unmatched_entry_fails_check_one(repo, aftershock):
    (repo / "aftershock.yaml").write_text("experiments: [experiments, experimnts]\n")
    proc = aftershock("check", "--json", "--only", "1")
    checks, _ = results(proc)
    assert proc.returncode == 1
    assert "'experimnts' matches no experiment file" in checks[1]["reason"]
    assert "aftershock.yaml" in checks[1]["fix"]


def test_path_argument_finds_configuration(repo, aftershock, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    proc = subprocess.run([aftershock.bin, "check", "--skip", "3", str(repo / "experiments")],
                          cwd=elsewhere, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, NO_COLOR="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_install_hook_refuses_then_chains(repo, aftershock):
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho earlier-hook-ran \"$1\"\n")
    hook.chmod(0o755)

    refused = aftershock("check", "--install-hook")
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert "earlier-hook-ran" in hook.read_text()

    chained = aftershock("check", "--install-hook", "--force")
    assert chained.returncode == 0, chained.stderr
    assert (repo / ".git" / "hooks" / "pre-push.chained").exists()
    text = hook.read_text()
    assert "pre-push.chained" in text
    assert os.access(hook, os.X_OK)

    run = subprocess.run([str(hook), "origin", "url"], cwd=repo, capture_output=True, text=True,
                         input="", timeout=120, env=dict(os.environ, NO_COLOR="1"))
    assert "earlier-hook-ran origin" in run.stdout
    assert "1 experiments" in run.stdout

    again = aftershock("check", "--install-hook")
    assert again.returncode == 0, again.stderr


def test_install_hook_outside_git_fails(tmp_path, aftershock):
    proc = aftershock("check", "--install-hook")
    assert proc.returncode == 3
    assert "git" in proc.stderr
