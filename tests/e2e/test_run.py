"""End-to-end tests of `aftershock run` against real servers on loopback."""
import json
import os
import signal
import time

import pytest

from conftest import process_state


def write_experiment(path, experiment):
    path.write_text(json.dumps(experiment, indent=2))
    return path


def health_probe(url, tolerance=200, name="service-healthy"):
    return {"type": "probe", "name": name, "tolerance": tolerance,
            "provider": {"type": "http", "url": url, "timeout": 2}}


def shell_action(name, script, **extra):
    activity = {"type": "action", "name": name,
                "provider": {"type": "process", "path": "/bin/sh", "arguments": ["-c", script]}}
    activity.update(extra)
    return activity


def experiment(url, method, rollbacks=None, **extra):
    doc = {
        "title": "service stays healthy",
        "description": "end-to-end test experiment",
        "steady-state-hypothesis": {"title": "healthy", "probes": [health_probe(url + "/health")]},
        "method": method,
        "rollbacks": rollbacks or [],
    }
    doc.update(extra)
    return doc


def read_journal(tmp_path, name="journal.json"):
    return json.loads((tmp_path / name).read_text())


def test_passing_experiment_against_nginx(aftershock, nginx, tmp_path):
    doc = {
        "title": "nginx serves its page",
        "description": "the page is served before and after a harmless action",
        "tags": ["nginx"],
        "steady-state-hypothesis": {"title": "page served", "probes": [
            health_probe(nginx.url + "/", tolerance=200, name="page"),
            {"type": "probe", "name": "body", "provider": {"type": "http", "url": nginx.url + "/"},
             "tolerance": {"type": "regex", "pattern": "hello from", "target": "body"}},
        ]},
        "method": [shell_action("noop", "true")],
    }
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    assert journal["status"] == "completed"
    assert journal["deviated"] is False
    for key in ("experiment", "start", "end", "duration", "steady_states", "run", "rollbacks"):
        assert key in journal
    before = journal["steady_states"]["before"]
    assert before["steady_state_met"] is True
    assert [p["tolerance_met"] for p in before["probes"]] == [True, True]
    assert journal["steady_states"]["after"]["steady_state_met"] is True
    record = journal["run"][0]
    for key in ("activity", "output", "status", "start", "end", "duration"):
        assert key in record
    assert record["status"] == "succeeded"
    assert record["output"]["status"] == 0
    assert "nginx serves its page" in result.stdout


def test_deviating_experiment_exits_1(aftershock, app, tmp_path):
    doc = experiment(app.url, [shell_action("break-health", f"echo 503 > {app.state}")],
                     rollbacks=[shell_action("restore-health", f"echo 200 > {app.state}")])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 1, result.stderr
    journal = read_journal(tmp_path)
    assert journal["deviated"] is True
    assert journal["status"] == "failed"
    assert journal["steady_states"]["after"]["steady_state_met"] is False
    assert journal["steady_states"]["after"]["probes"][0]["output"]["status"] == 503
    assert len(journal["rollbacks"]) == 1
    assert app.state.read_text().strip() == "200"


def test_unmet_steady_state_skips_method(aftershock, app, tmp_path):
    app.set_status(500)
    marker = tmp_path / "method-ran"
    doc = experiment(app.url, [shell_action("touch", f"touch {marker}")],
                     rollbacks=[shell_action("rollback", f"touch {tmp_path / 'rolled-back'}")])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 1
    journal = read_journal(tmp_path)
    assert journal["status"] == "failed"
    assert journal["deviated"] is False
    assert journal["steady_states"]["before"]["steady_state_met"] is False
    assert journal["run"] == []
    assert not marker.exists()
    assert journal["rollbacks"] == []
    assert not (tmp_path / "rolled-back").exists()


@pytest.mark.parametrize("strategy,scenario,expect_rollback", [
    ("default", "ok", True), ("default", "deviated", True), ("default", "unmet-before", False),
    ("always", "ok", True), ("always", "deviated", True), ("always", "unmet-before", True),
    ("never", "ok", False), ("never", "deviated", False), ("never", "unmet-before", False),
    ("deviated", "ok", False), ("deviated", "deviated", True), ("deviated", "unmet-before", False),
])
def test_rollback_strategies(aftershock, app, tmp_path, strategy, scenario, expect_rollback):
    marker = tmp_path / "rolled-back"
    if scenario == "unmet-before":
        app.set_status(503)
    script = f"echo 503 > {app.state}" if scenario == "deviated" else "true"
    doc = experiment(app.url, [shell_action("method", script)],
                     rollbacks=[shell_action("rollback", f"touch {marker}")])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "--rollback-strategy", strategy, "exp.json")
    assert result.returncode == (0 if scenario == "ok" else 1), result.stderr
    assert marker.exists() == expect_rollback
    assert len(read_journal(tmp_path)["rollbacks"]) == (1 if expect_rollback else 0)


def test_rollback_strategy_from_runtime(aftershock, app, tmp_path):
    marker = tmp_path / "rolled-back"
    doc = experiment(app.url, [shell_action("method", "true")],
                     rollbacks=[shell_action("rollback", f"touch {marker}")],
                     runtime={"rollbacks": {"strategy": "never"}})
    write_experiment(tmp_path / "exp.json", doc)
    assert aftershock("run", "exp.json").returncode == 0
    assert not marker.exists()


def wait_for_file(path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_sigterm_mid_method_runs_rollbacks(aftershock, app, tmp_path):
    started = tmp_path / "started"
    marker = tmp_path / "rolled-back"
    doc = experiment(app.url, [shell_action("long", f"touch {started}; sleep 60"),
                               shell_action("never-reached", f"touch {tmp_path / 'second'}")],
                     rollbacks=[shell_action("rollback", f"touch {marker}")])
    write_experiment(tmp_path / "exp.json", doc)
    proc = aftershock.start("run", "exp.json")
    wait_for_file(started)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    journal = read_journal(tmp_path)
    assert journal["status"] == "interrupted"
    assert marker.exists()
    assert len(journal["rollbacks"]) == 1
    assert not (tmp_path / "second").exists()
    assert journal["run"][0]["status"] == "failed"


def test_paused_process_resumed_after_ctrl_c(aftershock, nginx, tmp_path):
    doc = experiment(nginx.url, [{
        "type": "action", "name": "pause-nginx",
        "provider": {"type": "signal", "signal": "STOP", "pid_file": str(nginx.pid_file),
                     "duration": 60}}])
    doc["steady-state-hypothesis"]["probes"] = [health_probe(nginx.url + "/")]
    write_experiment(tmp_path / "exp.json", doc)
    proc = aftershock.start("run", "exp.json")
    deadline = time.monotonic() + 30
    while process_state(nginx.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_state(nginx.pid) == "T"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert process_state(nginx.pid) != "T"
    journal = read_journal(tmp_path)
    assert journal["status"] == "interrupted"
    assert "resumed" in journal["run"][0]["exception"][0]


def test_paused_process_resumed_when_aftershock_killed(aftershock, nginx, tmp_path):
    doc = experiment(nginx.url, [{
        "type": "action", "name": "pause-nginx",
        "provider": {"type": "signal", "signal": "SIGSTOP", "pid": nginx.pid, "duration": 60}}])
    doc["steady-state-hypothesis"]["probes"] = [health_probe(nginx.url + "/")]
    write_experiment(tmp_path / "exp.json", doc)
    proc = aftershock.start("run", "exp.json")
    deadline = time.monotonic() + 30
    while process_state(nginx.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_state(nginx.pid) == "T"
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while process_state(nginx.pid) == "T" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_state(nginx.pid) != "T"


def test_pause_and_recover(aftershock, nginx, tmp_path):
    doc = experiment(nginx.url, [{
        "type": "action", "name": "pause-nginx",
        "provider": {"type": "signal", "signal": "STOP", "pid_file": str(nginx.pid_file),
                     "duration": 1}}])
    doc["steady-state-hypothesis"]["probes"] = [health_probe(nginx.url + "/")]
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    assert journal["run"][0]["output"] == {"pid": nginx.pid, "signal": "STOP", "paused_for": 1}
    assert journal["steady_states"]["after"]["steady_state_met"] is True


def test_continuous_hypothesis_sees_pause(aftershock, nginx, tmp_path):
    doc = experiment(nginx.url, [{
        "type": "action", "name": "pause-nginx",
        "provider": {"type": "signal", "signal": "STOP", "pid": nginx.pid, "duration": 3}}])
    doc["steady-state-hypothesis"]["probes"] = [
        {"type": "probe", "name": "fast-page", "tolerance": 200,
         "provider": {"type": "http", "url": nginx.url + "/", "timeout": 0.5}}]
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "--hypothesis-strategy", "continuously",
                        "--hypothesis-frequency", "0.2", "exp.json")
    assert result.returncode == 1, result.stderr
    journal = read_journal(tmp_path)
    during = journal["steady_states"]["during"]
    assert len(during) >= 1
    assert any(not state["steady_state_met"] for state in during)
    assert journal["deviated"] is True
    assert journal["steady_states"]["after"]["steady_state_met"] is True


def test_fail_fast_stops_method(aftershock, app, tmp_path):
    marker = tmp_path / "late-action"
    doc = experiment(app.url, [shell_action("break", f"echo 503 > {app.state}"),
                               shell_action("wait", "sleep 3"),
                               shell_action("late", f"touch {marker}")],
                     rollbacks=[shell_action("restore", f"echo 200 > {app.state}")])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "--hypothesis-strategy", "during-method-only",
                        "--hypothesis-frequency", "0.1", "--fail-fast", "exp.json")
    assert result.returncode == 1
    journal = read_journal(tmp_path)
    assert journal["deviated"] is True
    assert journal["steady_states"]["before"] is None
    assert not marker.exists()
    assert app.state.read_text().strip() == "200"


def test_background_process_and_signal(aftershock, app, tmp_path):
    doc = experiment(app.url, [
        {"type": "action", "name": "worker", "background": True,
         "provider": {"type": "process", "path": "sleep", "arguments": ["30"], "timeout": 60}},
        {"type": "action", "name": "kill-worker", "pauses": {"before": 0.5},
         "provider": {"type": "signal", "signal": "TERM", "process": "worker"}},
    ])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    assert [r["activity"]["name"] for r in journal["run"]] == ["worker", "kill-worker"]
    assert journal["run"][0]["output"]["status"] == 128 + signal.SIGTERM
    assert journal["run"][1]["status"] == "succeeded"


def test_substitution_vars_env_and_process_path(aftershock, app, tmp_path):
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\necho \"tool says $1\"\n")
    script.chmod(0o755)
    doc = {
        "title": "substitution for ${service}",
        "description": "values come from configuration, env and --var",
        "configuration": {
            "base_url": {"type": "env", "key": "TEST_BASE_URL"},
            "service": "app",
            "tool_dir": str(tmp_path),
            "word": "default-word",
        },
        "steady-state-hypothesis": {"title": "healthy", "probes": [
            health_probe("${base_url}/health")]},
        "method": [{"type": "action", "name": "tool",
                    "provider": {"type": "process", "path": "${tool_dir}/tool.sh",
                                 "arguments": ["${word}"]}}],
    }
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "--var", "word=from-var", "exp.json",
                        env={"TEST_BASE_URL": app.url})
    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    assert journal["run"][0]["output"]["stdout"] == "tool says from-var\n"


def test_missing_env_is_named(aftershock, tmp_path):
    doc = {"title": "t", "description": "d",
           "configuration": {"base_url": {"type": "env", "key": "AFTERSHOCK_TEST_UNSET_VAR"}},
           "method": [{"type": "probe", "name": "p", "provider": {"type": "http",
                                                                 "url": "${base_url}/"}}]}
    write_experiment(tmp_path / "exp.json", doc)
    env = {k: v for k, v in os.environ.items() if k != "AFTERSHOCK_TEST_UNSET_VAR"}
    result = aftershock("run", "exp.json", env=env)
    assert result.returncode == 2
    assert "AFTERSHOCK_TEST_UNSET_VAR" in result.stderr
    assert not (tmp_path / "journal.json").exists()


def test_secrets_not_in_journal(aftershock, app, tmp_path):
    doc = experiment(app.url, [{
        "type": "action", "name": "call-with-token",
        "provider": {"type": "http", "url": app.url + "/health",
                     "headers": {"Authorization": "Bearer ${token}"}}}],
        secrets={"api": {"token": "s3cr3t-value"}})
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    assert "Authorization=Bearer s3cr3t-value" in "\n".join(app.requests())
    text = (tmp_path / "journal.json").read_text()
    assert "s3cr3t-value" not in text
    assert "s3cr3t-value" not in result.stdout + result.stderr


def test_expected_status_honoured(aftershock, app, tmp_path):
    doc = experiment(app.url, [{
        "type": "action", "name": "expects-201",
        "provider": {"type": "http", "url": app.url + "/health", "expected_status": 201}}])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    journal = read_journal(tmp_path)
    record = journal["run"][0]
    assert record["status"] == "failed"
    assert "expected 201" in record["exception"][0]
    assert result.returncode == 0


def test_jsonpath_tolerance(aftershock, app, tmp_path):
    doc = experiment(app.url, [shell_action("noop", "true")])
    doc["steady-state-hypothesis"]["probes"] = [{
        "type": "probe", "name": "replicas-up",
        "provider": {"type": "http", "url": app.url + "/json"},
        "tolerance": {"type": "jsonpath", "path": "$.replicas[*].up", "expect": True,
                      "target": "body", "count": 2}}]
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    assert journal["steady_states"]["before"]["probes"][0]["tolerance_met"] is True


def test_yaml_experiment_and_post_body(aftershock, app, tmp_path):
    (tmp_path / "exp.yaml").write_text(f"""
title: yaml experiment
description: posts a JSON body
steady-state-hypothesis:
  title: healthy
  probes:
    - type: probe
      name: health
      tolerance: [200, 204]
      provider:
        type: http
        url: {app.url}/health
method:
  - type: action
    name: post
    provider:
      type: http
      method: POST
      url: {app.url}/submit
      arguments:
        answer: 42
""")
    result = aftershock("run", "exp.yaml")
    assert result.returncode == 0, result.stderr
    posts = [line for line in app.requests() if line.startswith("POST /submit")]
    assert len(posts) == 1
    assert '{"answer":42}' in posts[0] or '{"answer": 42}' in posts[0]


def test_dry_run_touches_nothing(aftershock, app, tmp_path):
    marker = tmp_path / "touched"
    doc = experiment(app.url, [shell_action("touch", f"touch {marker}")])
    write_experiment(tmp_path / "exp.json", doc)
    before = len(app.requests())
    result = aftershock("run", "--dry-run", "exp.json")
    assert result.returncode == 0, result.stderr
    assert "service stays healthy" in result.stdout
    assert f"{app.url}/health" in result.stdout
    assert "touch" in result.stdout
    assert not marker.exists()
    assert not (tmp_path / "journal.json").exists()
    assert len(app.requests()) == before


def test_several_experiments_get_own_journals(aftershock, app, tmp_path):
    write_experiment(tmp_path / "one.json", experiment(app.url, [shell_action("a", "true")]))
    write_experiment(tmp_path / "two.json", experiment(app.url, [shell_action("b", "true")]))
    (tmp_path / "out").mkdir()
    result = aftershock("run", "--journal-path", "out/j.json", "one.json", "two.json")
    assert result.returncode == 0, result.stderr
    assert read_journal(tmp_path, "out/j-one.json")["status"] == "completed"
    assert read_journal(tmp_path, "out/j-two.json")["status"] == "completed"


def test_journal_folder_missing_exits_2(aftershock, app, tmp_path):
    marker = tmp_path / "ran"
    write_experiment(tmp_path / "exp.json",
                     experiment(app.url, [shell_action("a", f"touch {marker}")]))
    result = aftershock("run", "--journal-path", "missing-dir/j.json", "exp.json")
    assert result.returncode == 2
    assert "'missing-dir'" in result.stderr
    assert not marker.exists()


def test_journal_write_failure_exits_3(aftershock, app, tmp_path):
    write_experiment(tmp_path / "exp.json", experiment(app.url, [shell_action("a", "true")]))
    (tmp_path / "taken").mkdir()
    result = aftershock("run", "--no-record", "--journal-path", "taken", "exp.json")
    assert result.returncode == 3
    assert "'taken'" in result.stderr


def test_same_stem_journals_rejected(aftershock, app, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_experiment(tmp_path / folder / "same.json",
                         experiment(app.url, [shell_action("x", f"touch {tmp_path / 'ran'}")]))
    result = aftershock("run", "a/same.json", "b/same.json")
    assert result.returncode == 2
    assert "journal-same.json" in result.stderr
    assert not (tmp_path / "ran").exists()


def test_ref_keeps_own_tolerance(aftershock, app, tmp_path):
    doc = experiment(app.url, [shell_action("a", "true")])
    doc["steady-state-hypothesis"]["probes"].append({"ref": "service-healthy", "tolerance": 404})
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 1
    probes = read_journal(tmp_path)["steady_states"]["before"]["probes"]
    assert probes[1]["activity"]["tolerance"] == 404
    assert probes[1]["tolerance_met"] is False


def test_secret_masked_in_errors_and_logs(aftershock, app, tmp_path):
    doc = experiment(app.url, [{
        "type": "action", "name": "leaky",
        "provider": {"type": "http", "url": "http://127.0.0.1:1/?t=${token}", "timeout": 2}}],
        secrets={"api": {"token": "topsecret123",
                         "other": {"type": "env", "key": "AFTERSHOCK_TEST_UNSET_SECRET",
                                   "default": "defaultsecret42"}}})
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("-v", "run", "exp.json")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "journal.json").read_text()
    record = json.loads(text)["run"][0]
    assert record["status"] == "failed"
    assert "***" in record["exception"][0]
    for secret in ("topsecret123", "defaultsecret42"):
        assert secret not in text
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_process_output_after_nul_kept(aftershock, app, tmp_path):
    method = [shell_action("nul", "printf 'before\\000after'")]
    write_experiment(tmp_path / "exp.json", experiment(app.url, method))
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    output = read_journal(tmp_path)["run"][0]["output"]
    assert output["stdout"] == "before\ufffdafter"
    assert "stdout_truncated" not in output


def test_process_output_cut_is_flagged(aftershock, app, tmp_path):
    method = [shell_action("long", "head -c 1100000 /dev/zero | tr '\\000' x; echo err >&2")]
    write_experiment(tmp_path / "exp.json", experiment(app.url, method))
    result = aftershock("run", "exp.json")
    assert result.returncode == 0, result.stderr
    output = read_journal(tmp_path)["run"][0]["output"]
    assert len(output["stdout"]) == 1024 * 1024
    assert output["stdout_truncated"] is True
    assert output["stderr"] == "err\n"
    assert "stderr_truncated" not in output
    assert "was cut at 1048576 bytes" in result.stderr
