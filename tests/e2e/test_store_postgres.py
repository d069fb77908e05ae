"""End-to-end tests of the PostgreSQL store against a private PostgreSQL server:
the same runs give the same report and history as the SQLite store."""
import json
import sqlite3
import subprocess

from conftest import chaos_journal

REFUSED = "connection refused by 127.0.0.1:{port} (http://127.0.0.1:{port}/)"
NOW = "2026-03-15T00:00:00Z"

# Healing attempts and objective results in SQL that both backends accept.
EXTRA_ROWS = """
INSERT INTO chaos_heal_attempts (timestamp, session, attempt, command, exit_code, category,
  strategy, outcome, duration, started_ms, duration_ms) VALUES
  ('2026-03-09T10:00:00.000000Z', 's1', 1, 'aftershock run x', 3, 'network', 'retry',
   'retried', 1.5, 1773050400000, 1500),
  ('2026-03-09T10:01:00.000000Z', 's1', 2, 'aftershock run x', 0, NULL, NULL, 'succeeded',
   2.0, 1773050460000, 2000),
  ('2026-03-02T10:00:00.000000Z', 's0', 1, 'aftershock run x', 3, 'timeout', 'retry',
   'retried', 1.0, 1772445600000, 1000);
INSERT INTO chaos_objectives (timestamp, experiment, name, kind, target, measured, passed,
  weight, started_ms) VALUES
  ('2026-03-09T10:00:00.000000Z', 'alpha', 'availability', 'availability', 0.99, 0.995, 1,
   2.0, 1773050400000),
  ('2026-03-10T10:00:00.000000Z', 'alpha', 'p99', 'latency', 0.5, 0.75, 0, 1.0, 1773136800000),
  ('2026-03-03T10:00:00.000000Z', 'alpha', 'availability', 'availability', 0.99, 0.999, 1,
   1.0, 1772532000000);
"""


def day(d, hour=10, minute=0):
    return f"2026-03-{d:02d}T{hour:02d}:{minute:02d}:00.250000Z"


def batches():
    """Journals by commit: two weeks of runs with failures, flakiness and a recovery."""
    return {
        "c1": [chaos_journal("alpha", day(2)),
               chaos_journal("alpha", day(3), deviated=True, after_met=False, duration=3.5),
               chaos_journal("gamma", day(4), method_errors=[REFUSED.format(port=1)])],
        "c2": [chaos_journal("alpha", day(9), duration=2.25),
               chaos_journal("alpha", day(10), status="failed", before_met=False,
                             before_error=REFUSED.format(port=8080)),
               chaos_journal("alpha", day(11), duration=6.125),
               chaos_journal("beta", day(9, 11), method_errors=[REFUSED.format(port=8081)]),
               chaos_journal("beta", day(12), method_errors=[REFUSED.format(port=8082)],
                             rollback_errors=["process 'undo' timed out after 3 s"])],
        "c3": [chaos_journal("beta", day(13), status="interrupted"),
               chaos_journal("gamma", day(14, 23, 59), deviated=True, after_met=False)],
    }


def record_all(aftershock, write_journals, db):
    for commit, journals in batches().items():
        paths = write_journals(journals, f"journals-{commit}")
        result = aftershock("history", "import", "--db", db, *paths,
                            env={"GITHUB_SHA": commit, "GITHUB_REF_NAME": "main"})
        assert result.returncode == 0, result.stderr


def output(aftershock, *args):
    result = aftershock(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_postgres_gives_same_report_as_sqlite(aftershock, write_journals, postgres_server,
                                              postgres_db):
    sqlite_db = aftershock.cwd / "history.db"
    record_all(aftershock, write_journals, sqlite_db)
    record_all(aftershock, write_journals, postgres_db)
    with sqlite3.connect(sqlite_db) as db:
        db.executescript(EXTRA_ROWS)
    postgres_server.psql(postgres_db, EXTRA_ROWS)

    for fmt in ["json", "markdown", "html"]:
        args = ["report", "--format", fmt, "--output", "-", "--now", NOW]
        from_sqlite = output(aftershock, *args, "--db", sqlite_db)
        from_postgres = output(aftershock, *args, "--db", postgres_db)
        assert from_postgres == from_sqlite, f"{fmt} reports differ"

    doc = json.loads(output(aftershock, "report", "--format", "json", "--output", "-",
                            "--now", NOW, "--db", postgres_db))
    assert doc["totals"]["current"]["runs"] == 7
    assert doc["totals"]["previous"]["runs"] == 3
    assert doc["healing"]["strategies"][0]["succeeded"] == 1
    assert doc["resilience_score"]["current"] == 66.67
    assert doc["slowest_experiments"][0]["mean_seconds"] == 3.125

    for view in ["runs", "failures", "healing", "objectives"]:
        args = ["history", view, "--json", "--limit", "0"]
        assert output(aftershock, *args, "--db", postgres_db) == \
            output(aftershock, *args, "--db", sqlite_db), f"history {view} differs"


def test_postgres_run_records(aftershock, postgres_server, postgres_db):
    exp = aftershock.cwd / "e.json"
    exp.write_text(json.dumps({
        "title": "refused call", "description": "d",
        "method": [{"type": "action", "name": "call", "provider": {
            "type": "http", "url": "http://127.0.0.1:1/", "timeout": 1}}]}))
    result = aftershock("run", "--db", postgres_db, exp, env={"GITHUB_SHA": "feed"})
    assert result.returncode == 0, result.stderr
    rows = postgres_server.psql(postgres_db, "SELECT experiment, outcome, commit_sha FROM "
                                             "chaos_runs")
    assert rows.strip() == "refused call|passed|feed"
    categories = postgres_server.psql(postgres_db, "SELECT category, COUNT(*) FROM "
                                                   "chaos_failures GROUP BY category")
    assert categories.strip() == "network|1"
    version = postgres_server.psql(postgres_db, "SELECT version FROM aftershock_schema")
    assert version.strip() == "3"


def test_postgres_unreachable_masks_password(aftershock, postgres_server):
    url = f"postgresql://ci:hunter2secret@127.0.0.1:1/chaos"
    result = aftershock("history", "--db", url)
    assert result.returncode == 3
    assert "cannot connect to history store 'postgresql://ci:***@127.0.0.1:1/chaos'" in \
        result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout


def test_postgres_rejects_newer_schema(aftershock, write_journals, postgres_server,
                                       postgres_db):
    paths = write_journals([chaos_journal("alpha", day(2))])
    assert aftershock("history", "import", "--db", postgres_db, *paths).returncode == 0
    postgres_server.psql(postgres_db, "UPDATE aftershock_schema SET version = 99")

    result = aftershock("history", "import", "--db", postgres_db, *paths)
    assert result.returncode == 3
    assert "schema version 99" in result.stderr
    assert postgres_server.psql(postgres_db, "SELECT COUNT(*) FROM chaos_runs").strip() == "1"
    assert aftershock("report", "--db", postgres_db, "--output", "-").returncode == 3


def test_postgres_parallel_writers(aftershock, write_journals, postgres_server, postgres_db):
    procs = []
    for writer in range(4):
        journals = [chaos_journal(f"writer-{writer}", day(9, writer, minute % 60),
                                  method_errors=[REFUSED.format(port=minute)])
                    for minute in range(100)]
        paths = write_journals(journals, f"writer-{writer}")
        procs.append(subprocess.Popen(
            [aftershock.bin, "history", "import", "--db", postgres_db, *map(str, paths)],
            cwd=aftershock.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert postgres_server.psql(postgres_db, "SELECT COUNT(*) FROM chaos_runs").strip() == "400"
    assert postgres_server.psql(postgres_db, "SELECT COUNT(*) FROM chaos_failures").strip() == \
        "400"
