"""End-to-end tests of recording runs and of `aftershock history`."""
import json
import sqlite3
import subprocess

from conftest import chaos_journal

CI_ENV = {"GITHUB_SHA": "4f1c0ffee", "GITHUB_REF_NAME": "main", "GITHUB_JOB": "chaos",
          "GITHUB_RUN_ID": "77"}


def experiment(url, method, title="service stays healthy"):
    return {
        "title": title,
        "description": "history test",
        "steady-state-hypothesis": {"title": "healthy", "probes": [
            {"type": "probe", "name": "service-healthy", "tolerance": 200,
             "provider": {"type": "http", "url": url + "/health", "timeout": 2}}]},
        "method": method,
        "rollbacks": [],
    }


def http_action(name, url):
    return {"type": "action", "name": name,
            "provider": {"type": "http", "url": url, "timeout": 2}}


def sleep_action():
    return {"type": "action", "name": "pause-briefly",
            "provider": {"type": "process", "path": "/bin/sleep", "arguments": "0.05"}}


def history_json(aftershock, *args, db=None):
    extra = ["--db", db] if db else []
    result = aftershock("history", *args, *extra, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_run_records_into_default_store(aftershock, app):
    exp = aftershock.cwd / "healthy.json"
    exp.write_text(json.dumps(experiment(app.url, [sleep_action()])))

    result = aftershock("run", exp, env=CI_ENV)
    assert result.returncode == 0, result.stderr
    assert (aftershock.cwd / "journal.json").exists()
    assert (aftershock.cwd / "reports" / "chaos_history.db").exists()

    runs = history_json(aftershock)["runs"]
    assert len(runs) == 1
    run = runs[0]
    assert run["outcome"] == "passed"
    assert run["status"] == "completed"
    assert run["experiment"] == "service stays healthy"
    assert run["experiment_file"] == str(exp)
    assert run["journal_path"] == "journal.json"
    assert run["commit"] == "4f1c0ffee"
    assert run["branch"] == "main"
    assert run["ci_job"] == "chaos"
    assert run["ci_run"] == "77"
    assert run["failures"] == 0
    journal = json.loads((aftershock.cwd / "journal.json").read_text())
    assert run["timestamp"] == journal["start"]


def test_seed_queries_answer(aftershock, app):
    exp = aftershock.cwd / "e.json"
    exp.write_text(json.dumps(experiment(app.url, [http_action("refused", "http://127.0.0.1:1/")])))
    for _ in range(2):
        assert aftershock("run", exp).returncode == 0
    db = aftershock.cwd / "reports" / "chaos_history.db"

    latest = subprocess.run(["sqlite3", db, "SELECT * FROM chaos_runs ORDER BY timestamp DESC "
                             "LIMIT 10;"], capture_output=True, text=True, check=True)
    lines = latest.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "service stays healthy" in lines[0]
    assert lines[0].split("|")[1] > lines[1].split("|")[1]
    by_category = subprocess.run(["sqlite3", db, "SELECT category, COUNT(*) FROM chaos_failures "
                                  "GROUP BY category;"], capture_output=True, text=True, check=True)
    assert by_category.stdout.strip() == "network|2"


def test_run_records_failures_with_categories(aftershock, app):
    refused = aftershock.cwd / "refused.json"
    refused.write_text(json.dumps(experiment(
        app.url, [http_action("call-closed-port", "http://127.0.0.1:1/")], title="refused")))
    broken = aftershock.cwd / "broken.json"
    broken.write_text(json.dumps(experiment(
        app.url, [{"type": "action", "name": "break-health",
                   "provider": {"type": "process", "path": "/bin/sh",
                                "arguments": ["-c", f"echo 500 > {app.state}"]}}],
        title="breaks")))

    assert aftershock("run", refused).returncode == 0
    assert aftershock("run", broken).returncode == 1

    failures = history_json(aftershock, "failures")["failures"]
    by_experiment = {f["experiment"]: f for f in failures}
    assert by_experiment["refused"]["category"] == "network"
    assert by_experiment["refused"]["activity"] == "call-closed-port"
    assert by_experiment["refused"]["phase"] == "method"
    assert by_experiment["refused"]["signature"].startswith("connection refused by <addr>")
    assert by_experiment["breaks"]["category"] == "verdict"
    assert by_experiment["breaks"]["phase"] == "after"
    assert by_experiment["breaks"]["outcome"] == "deviated"
    assert "deviated after the method" in by_experiment["breaks"]["message"]

    db = sqlite3.connect(aftershock.cwd / "reports" / "chaos_history.db")
    phases = [row[0] for row in db.execute(
        "SELECT a.phase FROM chaos_activities a JOIN chaos_runs r ON r.id = a.run_id "
        "WHERE r.experiment = 'breaks' ORDER BY a.position")]
    assert phases == ["before", "method", "after"]


def test_run_no_record_and_env_store(aftershock, app):
    exp = aftershock.cwd / "e.json"
    exp.write_text(json.dumps(experiment(app.url, [sleep_action()])))

    assert aftershock("run", "--no-record", exp).returncode == 0
    assert not (aftershock.cwd / "reports").exists()

    store = aftershock.cwd / "elsewhere" / "h.db"
    assert aftershock("run", exp, env={"AFTERSHOCK_DB": str(store)}).returncode == 0
    assert store.exists()
    assert not (aftershock.cwd / "reports").exists()
    assert len(history_json(aftershock, db=store)["runs"]) == 1


def test_history_import_lists_newest_first(aftershock, write_journals):
    journals = [
        chaos_journal("alpha", "2026-03-01T10:00:00.000000Z"),
        chaos_journal("beta", "2026-03-02T10:00:00.000000Z", status="failed", before_met=False,
                      before_error="connection refused by 127.0.0.1:8080"),
        chaos_journal("alpha", "2026-03-03T10:00:00.000000Z", deviated=True, after_met=False),
        chaos_journal("alpha", "2026-03-04T10:00:00.000000Z",
                      method_errors=["connecting to 127.0.0.1:80 timed out (x)"]),
        chaos_journal("beta", "2026-03-05T10:00:00.000000Z", status="interrupted"),
    ]
    paths = write_journals(journals)
    result = aftershock("history", "import", *paths, env={"GITHUB_SHA": "abc"})
    assert result.returncode == 0, result.stderr
    assert "recorded 5 journals" in result.stdout

    runs = history_json(aftershock)["runs"]
    assert [r["timestamp"][:10] for r in runs] == [
        "2026-03-05", "2026-03-04", "2026-03-03", "2026-03-02", "2026-03-01"]
    assert [r["outcome"] for r in runs] == ["interrupted", "passed", "deviated", "failed",
                                             "passed"]
    assert all(r["commit"] == "abc" for r in runs)

    assert len(history_json(aftershock, "--since", "2026-03-03")["runs"]) == 3
    assert len(history_json(aftershock, "--until", "2026-03-03")["runs"]) == 2
    assert len(history_json(aftershock, "--since", "3d", "--now", "2026-03-05T12:00Z")["runs"]) == 3
    assert len(history_json(aftershock, "--experiment", "alpha")["runs"]) == 3
    assert [r["experiment"] for r in history_json(aftershock, "--status", "failed")["runs"]] == [
        "beta"]
    assert len(history_json(aftershock, "--limit", "2")["runs"]) == 2

    failures = history_json(aftershock, "failures")["failures"]
    assert [f["category"] for f in failures] == ["timeout", "verdict", "verdict"]
    timeouts = history_json(aftershock, "failures", "--category", "timeout")["failures"]
    assert len(timeouts) == 1
    assert timeouts[0]["experiment"] == "alpha"

    table = aftershock("history", "--experiment", "beta")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "STARTED", "(UTC)"]
    assert len(lines) == 3
    assert "interrupted" in lines[1]
    assert "2026-03-05 10:00:00" in lines[1]


def test_history_healing_and_objectives(aftershock, write_journals):
    paths = write_journals([chaos_journal("alpha", "2026-03-01T10:00:00.000000Z")])
    assert aftershock("history", "import", *paths).returncode == 0
    db = sqlite3.connect(aftershock.cwd / "reports" / "chaos_history.db")
    rows = [
        ("2026-03-01T09:00:00.000000Z", "s1", 1, 3, "network", "retry", "retried", 1772355600000),
        ("2026-03-01T09:01:00.000000Z", "s1", 2, 0, None, None, "succeeded", 1772355660000),
        ("2026-03-01T09:05:00.000000Z", "s2", 1, 1, "verdict", None, "stopped", 1772355900000),
    ]
    for ts, session, attempt, code, category, strategy, outcome, ms in rows:
        db.execute("INSERT INTO chaos_heal_attempts (timestamp, session, attempt, command, "
                   "exit_code, category, strategy, outcome, duration, started_ms, duration_ms) "
                   "VALUES (?, ?, ?, 'aftershock run x.yaml', ?, ?, ?, ?, 1.0, ?, 1000)",
                   (ts, session, attempt, code, category, strategy, outcome, ms))
    db.execute("INSERT INTO chaos_objectives (timestamp, experiment, name, kind, target, measured,"
               " passed, weight, started_ms) VALUES ('2026-03-01T10:00:00.000000Z', 'alpha', "
               "'availability', 'availability', 0.99, 0.5, 0, 1.0, 1772359200000)")
    db.commit()
    db.close()

    healing = history_json(aftershock, "healing")["healing"]
    assert [(h["session"], h["attempt"], h["outcome"]) for h in healing] == [
        ("s2", 1, "stopped"), ("s1", 2, "succeeded"), ("s1", 1, "retried")]
    assert history_json(aftershock, "healing", "--status", "stopped")["healing"][0]["session"] == "s2"
    assert len(history_json(aftershock, "healing", "--category", "network")["healing"]) == 1
    objectives = history_json(aftershock, "objectives", "--status", "failed")["objectives"]
    assert objectives[0]["name"] == "availability"
    assert objectives[0]["passed"] is False


def test_history_rejects_bad_options(aftershock, write_journals):
    paths = write_journals([chaos_journal("alpha", "2026-03-01T10:00:00.000000Z")])
    assert aftershock("history", "import", *paths).returncode == 0

    bad_status = aftershock("history", "--status", "green")
    assert bad_status.returncode == 2
    assert "invalid status 'green'" in bad_status.stderr
    assert "passed deviated failed interrupted healed" in bad_status.stderr
    assert aftershock("history", "everything").returncode == 2
    assert aftershock("history", "--category", "network").returncode == 2
    bad_time = aftershock("history", "--since", "last tuesday")
    assert bad_time.returncode == 2
    assert "invalid time 'last tuesday'" in bad_time.stderr


def test_history_missing_store(aftershock):
    result = aftershock("history", "--db", "nowhere/h.db")
    assert result.returncode == 3
    assert "cannot open history store 'nowhere/h.db'" in result.stderr
    assert "hint:" in result.stderr
    assert not (aftershock.cwd / "nowhere").exists()


def test_history_import_rejects_invalid_journal(aftershock, write_journals):
    good = chaos_journal("alpha", "2026-03-01T10:00:00.000000Z")
    bad = chaos_journal("alpha", "2026-03-01T10:00:00.000000Z")
    del bad["start"]
    paths = write_journals([good, bad])
    result = aftershock("history", "import", *paths)
    assert result.returncode == 2
    assert "has no valid start time" in result.stderr
    assert not (aftershock.cwd / "reports").exists()

    not_json = aftershock.cwd / "broken.json"
    not_json.write_text("{ nope")
    result = aftershock("history", "import", not_json)
    assert result.returncode == 2
    assert "cannot read journal" in result.stderr
