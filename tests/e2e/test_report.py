"""End-to-end tests of `aftershock report`: numbers, formats, the HTML page in Chromium."""
import json
import os
import re
import shutil
import sqlite3
import subprocess

import pytest

from conftest import chaos_journal

REFUSED = "connection refused by 127.0.0.1:{port} (http://127.0.0.1:{port}/api)"
TIMEOUT = "connecting to 127.0.0.1:9000 timed out (http://127.0.0.1:9000/)"
HEADINGS = ["Totals", "Trend", "Failure categories", "Top failure signatures",
            "Flaky experiments", "Healing", "Time to recovery", "Slowest experiments",
            "Resilience score", "Recommendations"]
NOW = "2026-03-15T00:00:00Z"


def day(d, hour=10):
    return f"2026-03-{d:02d}T{hour:02d}:00:00.000000Z"


def record(aftershock, write_journals, journals, commit, folder):
    paths = write_journals(journals, folder)
    result = aftershock("history", "import", *paths, env={"GITHUB_SHA": commit})
    assert result.returncode == 0, result.stderr


@pytest.fixture
def history(aftershock, write_journals):
    """Two weeks of runs: the week before 2026-03-08 and the week up to 2026-03-15."""
    record(aftershock, write_journals, [
        chaos_journal("alpha", day(2)),
        chaos_journal("alpha", day(3), deviated=True, after_met=False),
    ], "c1", "week1")
    record(aftershock, write_journals, [
        chaos_journal("alpha", day(9), duration=2.0),
        chaos_journal("alpha", day(10), status="failed", before_met=False,
                      before_error=REFUSED.format(port=8080), duration=4.0),
        chaos_journal("alpha", day(11), duration=6.0),
        chaos_journal("beta", day(9), method_errors=[REFUSED.format(port=8081)], duration=1.0),
        chaos_journal("beta", day(12), method_errors=[REFUSED.format(port=8082)], duration=1.0),
    ], "c2", "week2a")
    record(aftershock, write_journals, [
        chaos_journal("beta", day(13), method_errors=[TIMEOUT], duration=1.0),
    ], "c3", "week2b")
    return aftershock


def add_healing_and_objectives(db_path):
    db = sqlite3.connect(db_path)
    attempts = [("s1", 1, 3, "network", "retry", "retried", 1773050400000),
                ("s1", 2, 0, None, None, "succeeded", 1773050460000),
                ("s2", 1, 3, "timeout", "retry", "retried", 1773136800000),
                ("s2", 2, 3, "timeout", None, "gave_up", 1773136860000)]
    for session, attempt, code, category, strategy, outcome, ms in attempts:
        db.execute("INSERT INTO chaos_heal_attempts (timestamp, session, attempt, command, "
                   "exit_code, category, strategy, outcome, duration, started_ms, duration_ms) "
                   "VALUES ('2026-03-09T10:00:00.000000Z', ?, ?, 'aftershock run x', ?, ?, ?, ?,"
                   " 1.0, ?, 1000)", (session, attempt, code, category, strategy, outcome, ms))
    for ms, passed in [(1773050400000, 1), (1773136800000, 0), (1773223200000, 1)]:
        db.execute("INSERT INTO chaos_objectives (timestamp, experiment, name, kind, passed, "
                   "weight, started_ms) VALUES ('2026-03-09T10:00:00.000000Z', 'alpha', "
                   "'availability', 'availability', ?, 1.0, ?)", (passed, ms))
    db.commit()
    db.close()


def report_json(aftershock, *args):
    result = aftershock("report", "--format", "json", "--output", "-", "--now", NOW, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_report_json_numbers(history):
    doc = report_json(history)
    assert doc["schema"] == "aftershock-report/1"
    assert doc["period"] == {"since": "2026-03-08T00:00:00.000Z",
                             "until": "2026-03-15T00:00:00.000Z", "days": 7.0}
    assert doc["previous_period"]["since"] == "2026-03-01T00:00:00.000Z"
    current, previous = doc["totals"]["current"], doc["totals"]["previous"]
    assert (current["runs"], current["passed"], current["failed"], current["deviated"]) == (6, 5, 1, 0)
    assert (previous["runs"], previous["passed"], previous["deviated"]) == (2, 1, 1)
    assert current["pass_rate"] == 0.8333
    assert doc["totals"]["change"]["runs"] == 4
    assert doc["totals"]["change"]["pass_rate"] == 0.3333

    assert [d["date"] for d in doc["trend"]] == [f"2026-03-{d:02d}" for d in range(8, 15)]
    assert [d["runs"] for d in doc["trend"]] == [0, 2, 1, 1, 1, 1, 0]

    categories = doc["failure_categories"]
    assert categories["failures"] == 4
    assert categories["previous_failures"] == 1
    first = categories["categories"][0]
    assert (first["category"], first["count"], first["share"]) == ("network", 2, 0.5)
    assert {c["category"]: c["previous_count"] for c in categories["categories"]} == {
        "network": 0, "timeout": 0, "verdict": 1}

    top = doc["top_signatures"][0]
    assert top["signature"] == "connection refused by <addr> (<url>)"
    assert top["count"] == 2
    assert top["first_seen"] == "2026-03-09T10:00:00.000Z"
    assert top["last_seen"] == "2026-03-12T10:00:00.000Z"
    assert top["new"] is True

    flaky = doc["flaky_experiments"]
    assert flaky["count"] == 1
    assert flaky["previous_count"] == 1
    assert flaky["experiments"][0] == {"experiment": "alpha", "commits": 1, "flaky_commits": 1,
                                       "runs": 3, "flips": 2, "transitions": 2, "flip_rate": 1.0}
    recovery = doc["recovery"]["current"]
    assert (recovery["incidents"], recovery["recovered"], recovery["open"]) == (1, 1, 0)
    assert recovery["mean_seconds"] == 86400.0
    assert doc["recovery"]["previous"]["open"] == 1

    slowest = doc["slowest_experiments"]
    assert [s["experiment"] for s in slowest] == ["alpha", "beta"]
    assert slowest[0]["mean_seconds"] == 4.0
    assert slowest[0]["max_seconds"] == 6.0
    assert doc["resilience_score"]["current"] is None
    ids = [r["id"] for r in doc["recommendations"]]
    assert "flaky" in ids
    flaky_rec = doc["recommendations"][ids.index("flaky")]
    assert "2 flips in 2 consecutive runs" in flaky_rec["message"]
    assert flaky_rec["evidence"]["flips"] == 2


def test_report_lookback_relative_to_until(history):
    doc = report_json(history, "--until", "2026-03-12T00:00Z", "--lookback-days", "3")
    assert doc["period"]["since"] == "2026-03-09T00:00:00.000Z"
    assert doc["totals"]["current"]["runs"] == 4
    assert doc["generated_at"] == "2026-03-15T00:00:00.000Z"
    assert len(doc["trend"]) == 3

    since = report_json(history, "--since", "2026-03-12", "--until", "2026-03-14")
    assert since["totals"]["current"]["runs"] == 2
    assert since["previous_period"]["since"] == "2026-03-10T00:00:00.000Z"


def test_report_markdown_default_file(history):
    result = history("report", "--now", "2026-03-15T06:00:00Z", "--until", NOW)
    assert result.returncode == 0, result.stderr
    path = history.cwd / "reports" / "chaos_weekly_report_2026-03-15.md"
    assert f"report written to reports/chaos_weekly_report_2026-03-15.md" in result.stdout
    text = path.read_text()
    for heading in HEADINGS:
        assert f"\n## {heading}\n" in text
    assert "| runs | 6 | 2 | +4 |" in text
    assert "| pass rate | 83.3% | 50.0% | +33.3 pp |" in text
    assert "| network | 2 | 50.0% | 0 | 0.0% | +2 |" in text
    assert "`connection refused by <addr> (<url>)`" in text
    assert "| alpha | 1 | 1 | 3 | 2 | 100.0% |" in text


def test_report_output_creates_folder(history):
    target = history.cwd / "weekly" / "2026" / "report.md"
    result = history("report", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text().startswith("# Chaos engineering report")
    assert result.stdout.strip() == f"report written to {target}"


def test_report_output_folder_is_a_file(history):
    blocker = history.cwd / "blocker"
    blocker.write_text("a file where a folder should be\n")
    result = history("report", "--output", str(blocker / "report.md"))
    assert result.returncode == 3
    assert str(blocker) in result.stderr
    assert blocker.read_text() == "a file where a folder should be\n"


def test_report_healing_recovery_time(history):
    add_healing_and_objectives(history.cwd / "reports" / "chaos_history.db")
    healing = report_json(history)["healing"]["current"]
    # s1 passed on its second attempt, 60 s after the first began, and took 1 s.
    assert healing["recovered_sessions"] == 1
    assert healing["mean_recovery_seconds"] == 61.0
    assert healing["max_recovery_seconds"] == 61.0
    result = history("report", "--output", "-", "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert ("Healed sessions took 1 min 1 s on average from their first attempt to the end "
            "of the passing one (longest 1 min 1 s, 1 session).") in result.stdout


def test_report_empty_period(history):
    doc = report_json(history, "--until", "2026-06-01")
    assert doc["empty"] is True
    assert doc["totals"]["current"]["runs"] == 0
    assert [r["id"] for r in doc["recommendations"]] == ["no-runs"]
    result = history("report", "--until", "2026-06-01", "--output", "-")
    assert "No runs were recorded in this period" in result.stdout


def test_report_rejects_bad_options(history):
    both = history("report", "--since", "2026-03-01", "--lookback-days", "3")
    assert both.returncode == 2
    assert "cannot be combined" in both.stderr
    assert history("report", "--format", "pdf").returncode == 2
    backwards = history("report", "--since", "2026-03-10", "--until", "2026-03-01")
    assert backwards.returncode == 2
    assert "the period is empty" in backwards.stderr
    assert history("report", "--lookback-days", "0").returncode == 2
    assert history("report", "extra").returncode == 2


def test_report_missing_or_unwritable(aftershock, history):
    missing = aftershock("report", "--db", "none.db", "--output", "-")
    assert missing.returncode == 3
    assert "cannot open history store 'none.db'" in missing.stderr
    unwritable = history("report", "--output", "/proc/report.md")
    assert unwritable.returncode == 3


def chromium():
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium not found: install Debian's chromium package (scripts/install-deps)")
    return path


def run_chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, HOME=str(tmp_path)))


def test_report_html_renders_in_chromium(history, tmp_path):
    add_healing_and_objectives(history.cwd / "reports" / "chaos_history.db")
    out = history.cwd / "report.html"
    result = history("report", "--format", "html", "--output", out, "--now", NOW)
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)\s*=", html, re.IGNORECASE)
    assert "@media print" in html

    dom = run_chromium(tmp_path, "--dump-dom", out.as_uri())
    assert dom.returncode == 0, dom.stderr
    headings = re.findall(r"<h2>(.*?)</h2>", dom.stdout)
    assert headings == ["Totals", "Trend", "Resilience score", "Failure categories",
                        "Top failure signatures", "Flaky experiments", "Healing",
                        "Time to recovery", "Slowest experiments", "Recommendations"]
    for chart in ["chart-trend", "chart-categories", "chart-healing", "chart-score"]:
        match = re.search(rf'<svg id="{chart}"[^>]*>(.*?)</svg>', dom.stdout, re.DOTALL)
        assert match, f"{chart} missing from the rendered page"
        assert "<rect" in match.group(1) or "<path" in match.group(1)
    trend = re.search(r'<svg id="chart-trend".*?</svg>', dom.stdout, re.DOTALL).group(0)
    # One bar per day and outcome: 03-09 passed, 03-10 failed, then passed on 11, 12 and 13.
    assert trend.count('class="bar"') == 5
    healing = re.search(r'<svg id="chart-healing".*?</svg>', dom.stdout, re.DOTALL).group(0)
    assert "network / retry" in healing
    assert "100.0%" in healing

    pdf = tmp_path / "report.pdf"
    printed = run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                           out.as_uri())
    assert printed.returncode == 0, printed.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 10000
