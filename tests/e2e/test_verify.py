"""Objectives judged from traffic: `run` verdicts, `aftershock verify`, JUnit, JSON and the history store."""
import json
import sqlite3
import xml.etree.ElementTree as ET

import pytest

from conftest import free_port
from test_traffic import flaky  # noqa: F401  (fixture)


def write(tmp_path, name, experiment):
    path = tmp_path / name
    path.write_text(json.dumps(experiment))
    return path


def run(aftershock, tmp_path, experiment, name="experiment.json", *extra):
    path = write(tmp_path, name, experiment)
    journal = tmp_path / (path.stem + "-journal.json")
    result = aftershock("run", "--ledger-dir", tmp_path / "ledger", "--journal-path", journal,
                        *(extra or ("--no-record",)), path)
    return result, journal


def breaking_action(flaky, fail_for, recover_after=0):
    """A process action that makes the flaky server return 503 for fail_for seconds; the
    server stays broken recover_after seconds more after the action ends."""
    script = f"echo fail > {flaky.mode}; sleep {fail_for}; "
    if recover_after:
        script += f"(sleep {recover_after}; echo ok > {flaky.mode}) >/dev/null 2>&1 &"
    else:
        script += f"echo ok > {flaky.mode}"
    return {"type": "action", "name": "break",
            "provider": {"type": "process", "path": "sh", "arguments": ["-c", script]},
            "pauses": {"before": 2}}


OBJECTIVES = [
    {"type": "availability", "min_percent": 99, "phase": "during", "weight": 2},
    {"type": "latency", "percentile": "p99", "max_ms": 2000, "name": "fast enough"},
    {"type": "availability", "min_percent": 99, "phase": "before"},
]


def test_service_that_survives_a_fault(aftershock, tmp_path, nginx):
    port = free_port()
    experiment = {
        "title": "survives latency", "description": "30 ms of latency through the proxy",
        "proxies": [{"name": "web", "listen": f"127.0.0.1:{port}",
                     "upstream": f"127.0.0.1:{nginx.port}"}],
        "traffic": {"url": f"http://127.0.0.1:{port}/", "rate": 40, "timeout": 5, "tail": 3},
        "objectives": OBJECTIVES + [{"type": "recovery", "max_seconds": 3, "window": 2}],
        "method": [
            {"type": "action", "name": "slow-down", "pauses": {"before": 2, "after": 2},
             "provider": {"type": "toxic", "action": "add", "proxy": "web",
                          "toxic": {"name": "slow", "type": "latency",
                                    "attributes": {"latency": 30}}}},
            {"type": "action", "name": "speed-up",
             "provider": {"type": "toxic", "action": "remove", "proxy": "web",
                          "name": "slow"}},
        ],
    }
    result, journal = run(aftershock, tmp_path, experiment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resilience score: 100.0" in result.stdout

    doc = json.loads(journal.read_text())
    during = [s for s in doc["traffic"]["timeline"] if s["phase"] == "during"]
    before = [s for s in doc["traffic"]["timeline"] if s["phase"] == "before"]
    assert min(s["latency_ms"]["p50"] for s in during[1:-1] or during) >= 30
    assert max(s["latency_ms"]["p50"] for s in before) < 30
    assert doc["verdicts"]["passed"] is True

    verify = aftershock("verify", journal)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.count(" met") == 4


def test_service_that_fails_a_fault(aftershock, tmp_path, flaky):
    experiment = {
        "title": "breaks", "description": "503 for two seconds",
        "traffic": {"url": flaky.url, "rate": 25, "timeout": 5, "tail": 1},
        "objectives": OBJECTIVES,
        "method": [breaking_action(flaky, 2)],
    }
    result, journal = run(aftershock, tmp_path, experiment)
    assert result.returncode == 1
    assert "MISSED" in result.stdout

    verify = aftershock("verify", "--json", journal)
    assert verify.returncode == 1
    doc = json.loads(verify.stdout)
    assert doc["passed"] is False
    (exp,) = doc["experiments"]
    assert exp["title"] == "breaks"
    assert exp["journal"] == str(journal)
    during, latency, before = exp["objectives"]
    assert during["kind"] == "availability"
    assert during["phase"] == "during"
    assert during["met"] is False
    assert during["measured"] < 60
    assert during["unit"] == "%"
    assert during["limit"] == 99
    assert during["weight"] == 2
    assert "failed in phase 'during'" in during["reason"]
    assert latency["met"] is True
    assert latency["unit"] == "ms"
    assert latency["name"] == "fast enough"
    assert before["met"] is True
    assert before["measured"] == 100
    # Weights 2, 1 and 1; the first is missed.
    assert exp["score"] == pytest.approx(50.0)
    assert doc["score"] == pytest.approx(50.0)

    # The measured share matches the timeline's own counts.
    timeline = json.loads(journal.read_text())["traffic"]["timeline"]
    ok = sum(s["succeeded"] for s in timeline if s["phase"] == "during")
    done = sum(s["succeeded"] + sum(s["failed"].values()) for s in timeline
               if s["phase"] == "during")
    assert during["measured"] == pytest.approx(100 * ok / done)
    assert sum(s["failed"]["bad_status"] for s in timeline) > 0


def test_junit_is_parsed_back(aftershock, tmp_path, flaky):
    experiment = {
        "title": "breaks & <reports>", "description": "d",
        "traffic": {"url": flaky.url, "rate": 20, "timeout": 5, "tail": 1},
        "objectives": OBJECTIVES,
        "method": [breaking_action(flaky, 1)],
    }
    result, journal = run(aftershock, tmp_path, experiment)
    junit = tmp_path / "out" / "verify.xml"
    junit.parent.mkdir()
    verify = aftershock("verify", "--junit", junit, "--json-file", tmp_path / "v.json", journal)
    assert verify.returncode == 1
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert root.get("tests") == "3"
    assert root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "breaks & <reports>"
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "1"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["journal"] == str(journal)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["availability during >= 99%", "fast enough",
                                              "availability before >= 99%"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "availability"
    assert "limit >= 99.00 %" in failure.get("message")
    assert cases[1].find("failure") is None
    assert cases[2].find("failure") is None
    assert json.loads((tmp_path / "v.json").read_text())["passed"] is False


def test_recovery_time_met_and_missed(aftershock, tmp_path, flaky):
    """The fault action lasts 1 s but the service returns 503 for 3 s more."""
    experiment = {
        "title": "slow recovery", "description": "d",
        "traffic": {"url": flaky.url, "rate": 20, "timeout": 5, "tail": 9},
        "objectives": [
            {"type": "availability", "min_percent": 95, "phase": "after"},
            {"type": "recovery", "max_seconds": 1, "window": 2, "name": "quick"},
            {"type": "recovery", "max_seconds": 6, "window": 2, "name": "eventually"},
        ],
        "method": [breaking_action(flaky, 1, recover_after=3)],
    }
    result, journal = run(aftershock, tmp_path, experiment)
    verify = aftershock("verify", "--json", journal)
    assert verify.returncode == 1
    objectives = json.loads(verify.stdout)["experiments"][0]["objectives"]
    quick, eventually = objectives[1], objectives[2]
    assert quick["kind"] == "recovery"
    assert quick["phase"] is None
    assert quick["unit"] == "s"
    assert 2 <= quick["measured"] <= 5
    assert quick["met"] is False
    assert eventually["measured"] == quick["measured"]
    assert eventually["met"] is True


def test_recovery_never_reached(aftershock, tmp_path, flaky):
    experiment = {
        "title": "no recovery", "description": "d",
        "traffic": {"url": flaky.url, "rate": 20, "timeout": 5, "tail": 2},
        "objectives": [{"type": "recovery", "max_seconds": 30, "window": 3}],
        "method": [breaking_action(flaky, 1, recover_after=30)],
    }
    result, journal = run(aftershock, tmp_path, experiment)
    assert result.returncode == 1
    flaky.mode.write_text("ok\n")
    verify = aftershock("verify", "--json", journal)
    (objective,) = json.loads(verify.stdout)["experiments"][0]["objectives"]
    assert objective["measured"] is None
    assert objective["met"] is False
    assert "before the traffic ended" in objective["reason"]


def test_verdicts_recorded_in_the_history_store(aftershock, tmp_path, flaky):
    db = tmp_path / "history.db"
    experiment = {
        "title": "recorded", "description": "d",
        "traffic": {"url": flaky.url, "rate": 20, "timeout": 5},
        "objectives": OBJECTIVES,
        "method": [breaking_action(flaky, 1)],
    }
    result, journal = run(aftershock, tmp_path, experiment, "experiment.json", "--db", db)
    assert result.returncode == 1
    verify = aftershock("verify", "--db", db, journal)
    assert verify.returncode == 1
    with sqlite3.connect(db) as conn:
        run_id = conn.execute("SELECT id FROM chaos_runs").fetchone()[0]
        rows = conn.execute("SELECT run_id, experiment, name, kind, target, passed, weight "
                            "FROM chaos_objectives ORDER BY id").fetchall()
    assert [(r[0], r[1], r[3], r[5], r[6]) for r in rows] == [
        (run_id, "recorded", "availability", 0, 2.0),
        (run_id, "recorded", "latency", 1, 1.0),
        (run_id, "recorded", "availability", 1, 1.0)]
    assert rows[1][2] == "fast enough"
    assert rows[1][4] == 2000


def test_several_journals_and_overall_score(aftershock, tmp_path, flaky, nginx):
    good = {"title": "good", "description": "d",
            "traffic": {"url": nginx.url + "/", "rate": 20},
            "objectives": [{"type": "availability", "min_percent": 99}],
            "method": [{"type": "probe", "name": "wait",
                        "provider": {"type": "process", "path": "sleep", "arguments": "1"}}]}
    bad = {"title": "bad", "description": "d",
           "traffic": {"url": flaky.url, "rate": 20, "tail": 1},
           "objectives": [{"type": "availability", "min_percent": 99, "phase": "during"}],
           "method": [breaking_action(flaky, 1)]}
    _, j1 = run(aftershock, tmp_path, good, "good.json")
    _, j2 = run(aftershock, tmp_path, bad, "bad.json")
    verify = aftershock("verify", j1, j2)
    assert verify.returncode == 1
    assert "overall resilience score: 50.0" in verify.stdout
    both = aftershock("verify", "--json", j1, j1)
    assert both.returncode == 0
    assert json.loads(both.stdout)["score"] == 100


def test_objectives_without_traffic_are_missed(aftershock, tmp_path):
    experiment = {"title": "no traffic", "description": "d",
                  "objectives": [{"type": "availability", "min_percent": 50}],
                  "method": [{"type": "probe", "name": "p",
                              "provider": {"type": "process", "path": "true"}}]}
    result, journal = run(aftershock, tmp_path, experiment)
    assert result.returncode == 1
    verify = aftershock("verify", journal)
    assert verify.returncode == 1
    assert "the journal has no traffic to judge" in verify.stdout


def test_journal_without_objectives(aftershock, tmp_path):
    experiment = {"title": "plain", "description": "d",
                  "method": [{"type": "probe", "name": "p",
                              "provider": {"type": "process", "path": "true"}}]}
    result, journal = run(aftershock, tmp_path, experiment)
    assert result.returncode == 0
    verify = aftershock("verify", "--json", journal)
    assert verify.returncode == 0
    assert "declares no objectives" in verify.stderr
    assert json.loads(verify.stdout)["experiments"][0]["objectives"] == []


# A well-formed timeline second: 100 requests sent, all succeeded, in bucket 100.
TIMELINE_SECOND = {"second": 0, "sent": 100, "succeeded": 100,
                   "failed": {"timeout": 0, "refused": 0, "reset": 0, "bad_status": 0,
                              "other": 0},
                   "histogram": [[100, 100]]}


@pytest.mark.parametrize("content, message", [
    ("not json", "is not valid JSON"),
    ('{"status": "completed"}', "is not a journal"),
    ('{"status": "completed", "experiment": {"title": "t", "objectives": [{"type": "speed"}]}}',
     "objectives[0].type must be availability, latency or recovery"),
    ('{"status": "completed", "experiment": {"title": "t"}, "traffic": {"start_epoch": 1, '
     '"timeline": [{"second": 0, "sent": 1}]}}', "timeline entry 0 lacks 'succeeded'"),
    (json.dumps({"status": "completed", "experiment": {"title": "t"}, "traffic": {
        "start_epoch": 1, "timeline": [dict(TIMELINE_SECOND, succeeded=500)]}}),
     "timeline entry 0: succeeded and failed add up to 500, more than the 100 sent"),
    (json.dumps({"status": "completed", "experiment": {"title": "t"}, "traffic": {
        "start_epoch": 1, "timeline": [dict(TIMELINE_SECOND, histogram={"1": 100})]}}),
     "timeline entry 0: 'histogram' must be a list of [bucket, count] pairs, not an object"),
    (json.dumps({"status": "completed", "experiment": {"title": "t"}, "traffic": {
        "start_epoch": 1, "timeline": [dict(TIMELINE_SECOND, sent=-3)]}}),
     "timeline entry 0: 'sent' is -3; a count cannot be negative"),
    (json.dumps({"status": "completed", "experiment": {"title": "t"}, "traffic": {
        "start_epoch": 1, "timeline": [dict(TIMELINE_SECOND, histogram=[[100, 7]])]}}),
     "'histogram' holds 7 requests, but succeeded and failed add up to 100"),
    (json.dumps({"status": "completed", "experiment": {"title": "t"}, "traffic": {
        "start_epoch": 1, "timeline": [dict(TIMELINE_SECOND, failed={"reset": "2"})]}}),
     "'failed.reset' must be a whole number, not a string"),
])
def test_invalid_journal(aftershock, tmp_path, content, message):
    journal = tmp_path / "journal.json"
    journal.write_text(content)
    junit = tmp_path / "junit.xml"
    verify = aftershock("verify", "--junit", junit, journal)
    assert verify.returncode == 2
    assert message in verify.stderr
    assert not junit.exists()


def test_missing_journal(aftershock, tmp_path):
    verify = aftershock("verify", tmp_path / "nope.json")
    assert verify.returncode == 2
    assert f"the journal '{tmp_path / 'nope.json'}' was not found" in verify.stderr
    assert "line -1" not in verify.stderr
    assert "check the path" in verify.stderr


def test_folder_instead_of_a_journal(aftershock, tmp_path):
    verify = aftershock("verify", tmp_path)
    assert verify.returncode == 2
    assert f"'{tmp_path}' is a folder" in verify.stderr
    assert "expected near end of file" not in verify.stderr


def test_invalid_objectives_get_a_hint_about_objectives(aftershock, tmp_path):
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"status": "completed", "experiment": {
        "title": "t", "objectives": [{"type": "availability", "min_percent": 120}]}}))
    verify = aftershock("verify", journal)
    assert verify.returncode == 2
    assert f"'{journal}': objectives[0].min_percent is 120" in verify.stderr
    assert "fix 'objectives' in the experiment" in verify.stderr
    assert "pass journals written by" not in verify.stderr


@pytest.mark.parametrize("objective, message", [
    ({"type": "availability"}, "'min_percent' is required"),
    ({"type": "availability", "min_percent": 101}, "use a value from 0 to 100"),
    ({"type": "latency", "percentile": "p95", "max_ms": 5}, "p50, p90, p99, p99.9 or max"),
    ({"type": "latency", "percentile": "p99"}, "'max_ms' is required"),
    ({"type": "recovery", "max_seconds": 5, "phase": "during"}, "has no 'phase'"),
    ({"type": "recovery", "max_seconds": 5, "window": 0}, "window"),
    ({"type": "availability", "min_percent": 9, "weight": 0}, "weight"),
    ({"type": "availability", "min_percent": 9, "max_ms": 3}, "belong to latency"),
    ({"type": "availability", "min_percent": 9, "limit": 3}, "unknown key 'limit'"),
])
def test_invalid_objectives_are_refused_by_run(aftershock, tmp_path, objective, message):
    experiment = {"title": "bad", "description": "d", "objectives": [objective],
                  "method": [{"type": "probe", "name": "p",
                              "provider": {"type": "process", "path": "true"}}]}
    result, journal = run(aftershock, tmp_path, experiment)
    assert result.returncode == 2
    assert message in result.stderr
    assert not journal.exists()


def phase_experiment(phase):
    return {"title": "phases", "description": "d",
            "objectives": [{"type": "availability", "min_percent": 9, "phase": phase}],
            "method": [{"type": "action", "name": "stop the db",
                        "provider": {"type": "process", "path": "true"}},
                       {"type": "probe", "name": "look",
                        "provider": {"type": "process", "path": "true"}}]}


def test_misspelled_phase_is_refused_by_a_dry_run(aftershock, tmp_path):
    path = write(tmp_path, "experiment.json", phase_experiment("durring"))
    result = aftershock("run", "--dry-run", "--no-record", "--ledger-dir", tmp_path / "ledger",
                        path)
    assert result.returncode == 2
    assert "objectives[0].phase is 'durring'" in result.stderr
    assert "before, during, between, after, overall" in result.stderr
    assert "'stop the db'" in result.stderr
    # A probe is not a fault, so its name is not a phase.
    assert "'look'" not in result.stderr


@pytest.mark.parametrize("phase", ["during", "overall", "stop the db"])
def test_phase_names_accepted_by_a_dry_run(aftershock, tmp_path, phase):
    path = write(tmp_path, "experiment.json", phase_experiment(phase))
    result = aftershock("run", "--dry-run", "--no-record", "--ledger-dir", tmp_path / "ledger",
                        path)
    assert result.returncode == 0, result.stderr


def test_verify_rejects_misspelled_phase(aftershock, tmp_path):
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"status": "completed", "experiment": phase_experiment("look")}))
    verify = aftershock("verify", journal)
    assert verify.returncode == 2
    assert "objectives[0].phase is 'look'" in verify.stderr


def test_dry_run_plan_shows_traffic_and_objectives(aftershock, tmp_path):
    experiment = phase_experiment("stop the db")
    experiment["traffic"] = {"url": "http://127.0.0.1:9/", "rate": 25, "tail": 3}
    experiment["objectives"].append({"type": "latency", "percentile": "p99", "max_ms": 250,
                                     "name": "p99 stays fast", "weight": 2})
    path = write(tmp_path, "experiment.json", experiment)
    result = aftershock("run", "--dry-run", "--no-record", "--ledger-dir", tmp_path / "ledger",
                        path)
    assert result.returncode == 0, result.stderr
    assert ("traffic: GET http://127.0.0.1:9/, 25 requests/s, 64 connections, timeout 5 s, "
            "tail 3 s") in result.stdout
    assert "objectives: 2" in result.stdout
    assert "- availability stop the db >= 9%" in result.stdout
    assert "- p99 stays fast: latency overall p99 <= 250 ms (weight 2)" in result.stdout


def test_well_formed_hand_written_timeline_is_judged(aftershock, tmp_path):
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({
        "status": "completed",
        "experiment": {"title": "t",
                       "objectives": [{"type": "availability", "min_percent": 99}]},
        "traffic": {"start_epoch": 1, "timeline": [TIMELINE_SECOND]}}))
    verify = aftershock("verify", "--json", journal)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["experiments"][0]["objectives"][0]["measured"] == 100


def test_json_writes_the_shortest_form_of_a_score(aftershock, tmp_path):
    second = dict(TIMELINE_SECOND, sent=3, succeeded=2, histogram=[[100, 3]],
                  failed=dict(TIMELINE_SECOND["failed"], reset=1))
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({
        "status": "completed",
        "experiment": {"title": "t",
                       "objectives": [{"type": "availability", "min_percent": 50}]},
        "traffic": {"start_epoch": 1, "timeline": [second]}}))
    verify = aftershock("verify", "--json", "--json-file", tmp_path / "out.json", journal)
    assert verify.returncode == 0, verify.stderr
    for text in (verify.stdout, (tmp_path / "out.json").read_text()):
        assert '"measured": 66.66666666666667,' in text
        assert '"score": 100.0,' in text
        assert json.loads(text)["experiments"][0]["objectives"][0]["measured"] == 200 / 3
