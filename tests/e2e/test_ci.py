"""End-to-end tests of `aftershock ci init` (the workflow, parsed stage by stage with PyYAML) and
`aftershock ci summary` (markdown, and the GitHub API against a recording server on 127.0.0.1)."""
import json
import sqlite3

import pytest
import yaml

from github_api import FakeGitHub

WORKFLOW = ".github/workflows/chaos-validation-self-healing.yml"
TOKEN = "ghs_testTOKEN0123456789abcdef"
REPO = "octo/shop"
MARKER = "<!-- aftershock:ci-summary -->"
ISSUES_QUERY = f"/repos/{REPO}/issues?state=open&labels=chaos-validation&per_page=100&page=1"


# ---- ci init ----

def steps_text(job):
    return "\n".join(step.get("run", "") for step in job["steps"])


def uses(job):
    return [step.get("uses", "") for step in job["steps"]]


@pytest.fixture
def workflow(aftershock, tmp_path):
    (tmp_path / "experiments").mkdir()
    proc = aftershock("ci", "init")
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load((tmp_path / WORKFLOW).read_text())


def test_init_triggers(workflow):
    on = workflow["on"]
    assert "push" in on
    assert on["pull_request"]["branches"] == ["main", "dev"]
    assert on["schedule"] == [{"cron": "0 3 * * 0"}]
    auto_fix = on["workflow_dispatch"]["inputs"]["auto_fix"]
    assert auto_fix["type"] == "boolean"
    assert auto_fix["default"] is False


def test_init_stages_in_order(workflow):
    jobs = workflow["jobs"]
    assert list(jobs) == ["dependency", "config", "chaos", "resilience", "report", "summary"]
    assert jobs["config"]["needs"] == "dependency"
    assert jobs["chaos"]["needs"] == "config"
    assert jobs["resilience"]["needs"] == "chaos"
    assert jobs["report"]["needs"] == "resilience"
    assert jobs["summary"]["needs"] == ["chaos", "resilience", "report"]
    for later in ("resilience", "report", "summary"):
        assert "!cancelled()" in jobs[later]["if"]
    for job in jobs.values():
        assert "actions/checkout@v4" in uses(job)
        assert "Install aftershock" in [s.get("name") for s in job["steps"]]


VENV_PYTHON = "--python .venv/bin/python"


def assert_installs_into_venv(job):
    """pip refuses the runner's own python3 (PEP 668): a venv comes first, then deps uses it."""
    steps = job["steps"]
    setup = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/setup-python")]
    venv = [i for i, s in enumerate(steps) if "python3 -m venv .venv" in s.get("run", "")]
    deps = [i for i, s in enumerate(steps) if "aftershock deps" in s.get("run", "")]
    assert setup and venv and deps
    assert setup[0] < venv[0] < deps[0]
    assert '.venv/bin" >> "$GITHUB_PATH"' in steps[venv[0]]["run"]
    for i in deps:
        assert VENV_PYTHON in steps[i]["run"]


def test_init_dependency_stage(workflow):
    job = workflow["jobs"]["dependency"]
    assert f"aftershock deps {VENV_PYTHON} --fix --install" in steps_text(job)
    assert_installs_into_venv(job)


def test_init_only_venv_jobs_run_deps(workflow):
    for name, job in workflow["jobs"].items():
        if name not in ("dependency", "chaos"):
            assert "aftershock deps" not in steps_text(job), name


def test_init_config_stage_auto_fix(workflow):
    text = steps_text(workflow["jobs"]["config"])
    assert "aftershock check --skip 3" in text
    assert "inputs.auto_fix && '--fix'" in text
    patch = [s for s in workflow["jobs"]["config"]["steps"] if s.get("uses", "").startswith(
        "actions/upload-artifact")]
    assert patch[0]["if"] == "${{ inputs.auto_fix }}"


def test_init_chaos_stage_runs_under_heal(workflow):
    job = workflow["jobs"]["chaos"]
    text = steps_text(job)
    # heal's own deps strategy installs into the venv too.
    heal = "aftershock heal --deps-arg=--python=.venv/bin/python --"
    assert f"{heal} aftershock run --journal-path journals/journal.json" in text
    assert f"{heal} aftershock deps {VENV_PYTHON} --fix --install" in text
    assert "aftershock heal -- " not in text
    assert_installs_into_venv(job)
    assert "experiments/*.yaml experiments/*.yml experiments/*.json" in text
    artifacts = {s["with"]["name"]: s["with"]["path"] for s in job["steps"]
                 if s.get("uses", "").startswith("actions/upload-artifact")}
    assert artifacts["journals"] == "journals/"
    assert artifacts["history"] == "reports/chaos_history.db"


def test_init_resilience_stage_publishes_junit(workflow):
    job = workflow["jobs"]["resilience"]
    assert ("aftershock verify --junit reports/junit.xml --json-file reports/verify.json "
            "journals/*.json") in steps_text(job)
    junit = [s for s in job["steps"] if s.get("uses", "").startswith("mikepenz/action-junit")]
    assert junit[0]["with"]["report_paths"] == "reports/junit.xml"
    uploaded = [s["with"]["path"] for s in job["steps"]
                if s.get("uses", "").startswith("actions/upload-artifact")]
    assert any("reports/junit.xml" in p for p in uploaded)


def test_init_report_and_summary_stages(workflow):
    report = workflow["jobs"]["report"]
    assert "aftershock report --lookback-days 7" in steps_text(report)
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in report["steps"])
    summary = workflow["jobs"]["summary"]
    text = steps_text(summary)
    assert "aftershock ci summary" in text
    assert "--comment" in text
    assert "--issue-after 3" in text
    step = [s for s in summary["steps"] if "ci summary" in s.get("run", "")][0]
    assert step["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"


def test_init_token_permissions(workflow):
    assert workflow["permissions"] == {"contents": "read", "checks": "write", "issues": "write",
                                       "pull-requests": "write"}


def test_init_refuses_to_overwrite(aftershock, tmp_path):
    assert aftershock("ci", "init").returncode == 0
    path = tmp_path / WORKFLOW
    path.write_text("# edited\n")
    refused = aftershock("ci", "init")
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert path.read_text() == "# edited\n"
    forced = aftershock("ci", "init", "--force")
    assert forced.returncode == 0
    assert "aftershock ci summary" in path.read_text()


def test_init_uses_configured_experiments(aftershock, tmp_path):
    (tmp_path / "aftershock.yaml").write_text("experiments: [chaos, 'more/*.json']\n")
    (tmp_path / "chaos").mkdir()
    assert aftershock("ci", "init").returncode == 0
    text = steps_text(yaml.safe_load((tmp_path / WORKFLOW).read_text())["jobs"]["chaos"])
    assert "files=(chaos/*.yaml chaos/*.yml chaos/*.json more/*.json)" in text


def test_init_gitlab(aftershock, tmp_path):
    proc = aftershock("ci", "init", "--provider", "gitlab")
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())
    assert doc["stages"] == ["dependency", "config", "chaos", "resilience", "report", "summary"]
    for stage, command in [("dependency", "aftershock deps"), ("config", "aftershock check"),
                           ("chaos", "aftershock heal --deps-arg=--python=.venv/bin/python -- "
                                     "aftershock run"),
                           ("resilience", "aftershock verify"), ("report", "aftershock report"),
                           ("summary", "aftershock ci summary")]:
        assert doc[stage]["stage"] == stage
        assert command in "\n".join(doc[stage]["script"])
    assert doc["resilience"]["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    for stage in ("dependency", "chaos"):
        script = doc[stage]["script"]
        venv = script.index("python3 -m venv .venv")
        assert script[venv + 1] == 'export PATH="$PWD/.venv/bin:$PATH"'
        deps = [i for i, line in enumerate(script) if "aftershock deps" in line]
        assert deps and all(i > venv and VENV_PYTHON in script[i] for i in deps)
    for stage in ("config", "resilience", "report", "summary"):
        assert "aftershock deps" not in "\n".join(doc[stage]["script"])
    sources = " ".join(rule["if"] for rule in doc["workflow"]["rules"])
    for source in ("push", "merge_request_event", "schedule", "web"):
        assert source in sources
    check = aftershock("check", "--only", "5")
    assert check.returncode == 0, check.stdout


def test_init_bad_provider(aftershock):
    proc = aftershock("ci", "init", "--provider", "jenkins")
    assert proc.returncode == 2
    assert "'jenkins'" in proc.stderr


@pytest.mark.parametrize("args", [["deploy"], ["init", "--comment"], ["summary", "--force"],
                                  ["summary", "--issue-after", "0"], ["summary", "x"]])
def test_ci_usage_errors(aftershock, args):
    proc = aftershock("ci", *args)
    assert proc.returncode == 2
    assert "error:" in proc.stderr


# ---- ci summary ----

def journal(title, passed=True, start="2026-03-01T10:00:00Z"):
    return {"experiment": {"title": title}, "status": "completed" if passed else "failed",
            "deviated": False, "start": start, "end": start, "duration": 2.5,
            "steady_states": {}, "run": [], "rollbacks": []}


def write_journals(folder, *journals):
    folder.mkdir(exist_ok=True)
    for i, doc in enumerate(journals):
        (folder / f"journal-{i}.json").write_text(json.dumps(doc))


VERIFY = {"experiments": [{"journal": "journals/journal-0.json", "title": "checkout survives",
                           "status": "completed", "score": 50.0,
                           "objectives": [
                               {"name": "availability", "kind": "availability", "phase": "during",
                                "limit": 99.0, "measured": 97.5, "unit": "%", "weight": 1,
                                "met": False, "reason": "97.5 % < 99 %"},
                               {"name": "p99", "kind": "latency", "phase": None, "limit": 300,
                                "measured": 120, "unit": "ms", "weight": 1, "met": True,
                                "reason": "120 >= 0"}]}],
          "score": 50.0, "passed": False}


def test_summary_to_stdout(aftershock, tmp_path):
    write_journals(tmp_path / "journals", journal("checkout survives"))
    (tmp_path / "verify.json").write_text(json.dumps(VERIFY))
    proc = aftershock("ci", "summary", "--verify", "verify.json",
                      env={"GITHUB_STEP_SUMMARY": ""})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "## Chaos validation: ❌ failed" in out
    # The run completed but an objective was missed: the word names what failed.
    assert "| checkout survives | ❌ objectives missed | 1/2 | 50.0 | 2.5 s |" in out
    assert "| checkout survives | availability | availability | during | 99 % | 97.5 % | ❌" in out
    # '<' and '>' in a reason are written alike, as entities.
    assert "❌ 97.5 % &lt; 99 % |" in out
    assert "| p99 | latency | – | 300 ms | 120 ms | ✅ 120 &gt;= 0 |" in out
    assert "resilience score 50.0 / 100" in out
    assert "No history store" in out


def test_summary_with_nothing_to_judge_is_not_passed(aftershock, tmp_path):
    proc = aftershock("ci", "summary", "--journal", "nodir", "-o", "s3.md")
    assert proc.returncode == 1, proc.stderr
    text = (tmp_path / "s3.md").read_text()
    assert text.startswith("## Chaos validation: ⚠️ nothing to judge")
    assert "passed" not in text.splitlines()[0]
    assert "0 experiments" in text
    assert "nothing to judge" in proc.stderr


def verdicts(passed):
    return {"title": "t", "score": 100.0 if passed else 0.0, "passed": passed,
            "objectives": [{"name": "availability", "kind": "availability", "phase": "during",
                            "limit": 99.0, "measured": 100.0 if passed else 80.0, "unit": "%",
                            "weight": 1, "met": passed, "reason": None}]}


def test_summary_uses_the_journals_own_verdicts(aftershock, tmp_path):
    docs = [dict(journal("a"), verdicts=verdicts(False)),
            dict(journal("b"), verdicts=verdicts(False))]
    write_journals(tmp_path / "j2", *docs)
    proc = aftershock("ci", "summary", "--journal", "j2", "-o", "s.md")
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "s.md").read_text()
    assert text.startswith("## Chaos validation: ❌ failed")
    assert "| a | ❌ objectives missed | 0/1 | 0.0 | 2.5 s |" in text
    assert "| b | ❌ objectives missed | 0/1 | 0.0 | 2.5 s |" in text


def test_summary_verify_replaces_the_journals_verdicts(aftershock, tmp_path):
    write_journals(tmp_path / "journals",
                   dict(journal("checkout survives"), verdicts=verdicts(True)))
    (tmp_path / "verify.json").write_text(json.dumps(VERIFY))
    proc = aftershock("ci", "summary", "--verify", "verify.json", "-o", "s.md")
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "s.md").read_text()
    assert "| checkout survives | ❌ objectives missed | 1/2 | 50.0 | 2.5 s |" in text
    assert text.count("| checkout survives |") == 3  # one row of the verdict, two objectives


def test_summary_failed_run_and_missed_objectives(aftershock, tmp_path):
    write_journals(tmp_path / "journals",
                   dict(journal("a", passed=False), verdicts=verdicts(False)))
    proc = aftershock("ci", "summary", "-o", "s.md")
    assert proc.returncode == 0, proc.stderr
    assert "| a | ❌ failed, objectives missed |" in (tmp_path / "s.md").read_text()


def test_summary_appends_to_step_summary(aftershock, tmp_path):
    write_journals(tmp_path / "journals", journal("a"), journal("b"))
    target = tmp_path / "step-summary.md"
    target.write_text("earlier step\n")
    proc = aftershock("ci", "summary", env={"GITHUB_STEP_SUMMARY": str(target)})
    assert proc.returncode == 0, proc.stderr
    text = target.read_text()
    assert text.startswith("earlier step\n## Chaos validation: ✅ passed")
    assert "2 experiments" in text
    assert proc.stdout == ""


def test_summary_trend_and_healing_from_store(aftershock, tmp_path):
    history = tmp_path / "old"
    write_journals(history, journal("a", True, "2026-03-01T10:00:00Z"),
                   journal("a", False, "2026-03-02T10:00:00Z"))
    env = {"AFTERSHOCK_DB": str(tmp_path / "h.db"), "GITHUB_REF_NAME": "main",
           "GITHUB_RUN_ID": "77", "GITHUB_SHA": "abc"}
    imported = aftershock("history", "import", *sorted(history.glob("*.json")), env=env)
    assert imported.returncode == 0, imported.stderr
    # Healing attempts as `heal` records them: one of this CI run, one of another.
    with sqlite3.connect(tmp_path / "h.db") as db:
        for attempt, run, category, strategy, outcome in [
                (1, "77", "network", "retry", "retried"), (2, "77", None, None, "succeeded"),
                (1, "76", "dependency", "dependency", "retried")]:
            db.execute("INSERT INTO chaos_heal_attempts (timestamp, session, attempt, command,"
                       " exit_code, category, strategy, outcome, duration, ci_run, started_ms,"
                       " duration_ms) VALUES ('2026-03-03T10:00:00Z', 's', ?, 'aftershock run"
                       " x.yaml', ?, ?, ?, ?, 1.0, ?, ?, 1000)",
                       (attempt, 0 if outcome == "succeeded" else 3, category, strategy, outcome,
                        run, 1772532000000 + attempt))
    write_journals(tmp_path / "journals", journal("a", True, "2026-03-03T10:00:00Z"))
    proc = aftershock("ci", "summary", "--output", "out.md", env=env)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "out.md").read_text()
    assert "❌✅ 1 of 2 passed" in text
    assert "| 1 | `aftershock run x.yaml` | network (exit 3) | retry | retried |" in text
    assert "| 2 | `aftershock run x.yaml` | – | – | succeeded |" in text
    assert "dependency" not in text


@pytest.mark.parametrize("content", ["{not json", json.dumps({"status": "completed"})])
def test_summary_rejects_bad_journal(aftershock, tmp_path, content):
    (tmp_path / "journals").mkdir()
    (tmp_path / "journals" / "bad.json").write_text(content)
    proc = aftershock("ci", "summary")
    assert proc.returncode == 2
    assert "bad.json" in proc.stderr


def test_summary_rejects_bad_verify(aftershock, tmp_path):
    (tmp_path / "verify.json").write_text(json.dumps({"score": 3}))
    proc = aftershock("ci", "summary", "--verify", "verify.json")
    assert proc.returncode == 2
    assert "verify --json" in proc.stderr


# ---- the GitHub API ----

@pytest.fixture
def github():
    server = FakeGitHub()
    yield server
    server.stop()


def github_env(tmp_path, github, pull_request=7, branch="feature", token=TOKEN):
    event = tmp_path / "event.json"
    payload = {"repository": {"default_branch": "main"}}
    if pull_request:
        payload["pull_request"] = {"number": pull_request}
    event.write_text(json.dumps(payload))
    return {"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": token,
            "GITHUB_EVENT_PATH": str(event), "GITHUB_REF_NAME": branch,
            "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "42",
            "GITHUB_SHA": "0123abc",
            "GITHUB_STEP_SUMMARY": "", "AFTERSHOCK_DB": str(tmp_path / "none.db")}


def assert_api_headers(request):
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"].startswith("aftershock")


def assert_token_hidden(proc):
    assert TOKEN not in proc.stdout
    assert TOKEN not in proc.stderr


COMMENTS = f"/repos/{REPO}/issues/7/comments?per_page=100&page=1"


def test_comment_created(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS, (200, {}, [{"id": 1, "body": "unrelated"}]))
    github.route("POST", f"/repos/{REPO}/issues/7/comments", (201, {}, {"id": 9}))
    proc = aftershock("-v", "ci", "summary", "--comment", env=github_env(tmp_path, github))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", COMMENTS), ("POST", f"/repos/{REPO}/issues/7/comments")]
    for request in github.requests:
        assert_api_headers(request)
    body = github.requests[1].body
    assert list(body) == ["body"]
    assert body["body"].startswith(MARKER + "\n## Chaos validation: ✅ passed")
    assert "https://github.example/octo/shop/actions/runs/42" in body["body"]
    assert "created the summary comment on pull request #7" in proc.stdout
    assert_token_hidden(proc)


def test_comment_updated(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a", passed=False))
    github.route("GET", COMMENTS, (200, {}, [{"id": 1, "body": "x"},
                                             {"id": 55, "body": MARKER + "\nold"}]))
    github.route("PATCH", f"/repos/{REPO}/issues/comments/55", (200, {}, {"id": 55}))
    proc = aftershock("ci", "summary", "--comment", env=github_env(tmp_path, github))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", COMMENTS), ("PATCH", f"/repos/{REPO}/issues/comments/55")]
    assert_api_headers(github.requests[1])
    assert github.requests[1].body["body"].startswith(MARKER + "\n## Chaos validation: ❌ failed")
    assert "updated the summary comment" in proc.stdout


def test_comment_skipped_without_pull_request(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    proc = aftershock("ci", "summary", "--comment",
                      env=github_env(tmp_path, github, pull_request=None))
    assert proc.returncode == 0
    assert github.calls() == []
    assert "not a pull request" in proc.stdout


def test_comment_without_token_warns(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    env = github_env(tmp_path, github, token="")
    proc = aftershock("ci", "summary", "--comment", env=env)
    assert proc.returncode == 0
    assert "GITHUB_TOKEN is not set" in proc.stderr
    strict = aftershock("ci", "summary", "--comment", "--strict", env=env)
    assert strict.returncode == 3
    assert github.calls() == []


def failing_history(aftershock, tmp_path, runs, title="checkout survives"):
    """Records `runs` failed runs of title on main in a store, and returns its environment."""
    folder = tmp_path / "history"
    docs = [journal(title, False, f"2026-03-0{i + 1}T10:00:00Z") for i in range(runs)]
    write_journals(folder, *docs)
    db = tmp_path / "h.db"
    proc = aftershock("history", "import", *sorted(folder.glob("*.json")),
                      env={"AFTERSHOCK_DB": str(db), "GITHUB_REF_NAME": "main",
                           "GITHUB_SHA": "abc", "GITHUB_RUN_ID": "1"})
    assert proc.returncode == 0, proc.stderr
    return db


def issue_env(tmp_path, github, db):
    env = github_env(tmp_path, github, pull_request=None, branch="main")
    env["AFTERSHOCK_DB"] = str(db)
    return env


def test_issue_opened_after_three_failures(aftershock, tmp_path, github):
    db = failing_history(aftershock, tmp_path, 3)
    write_journals(tmp_path / "journals", journal("checkout survives", passed=False))
    github.route("GET", ISSUES_QUERY, (200, {}, [{"number": 3, "body": "other",
                                                  "pull_request": {}}]))
    github.route("POST", f"/repos/{REPO}/issues", (201, {}, {"number": 12}))
    proc = aftershock("ci", "summary", "--issue-after", "3", env=issue_env(tmp_path, github, db))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", ISSUES_QUERY), ("POST", f"/repos/{REPO}/issues")]
    body = github.requests[1].body
    assert set(body) == {"title", "body", "labels"}
    assert body["labels"] == ["chaos-validation"]
    assert body["title"] == "Chaos experiment 'checkout survives' failed 3 runs in a row on main"
    assert '<!-- aftershock:issue experiment="checkout survives" -->' in body["body"]
    assert "https://github.example/octo/shop/actions/runs/42" in body["body"]
    assert_api_headers(github.requests[1])
    assert "opened issue #12" in proc.stdout
    assert_token_hidden(proc)


def test_no_issue_before_threshold(aftershock, tmp_path, github):
    db = failing_history(aftershock, tmp_path, 2)
    write_journals(tmp_path / "journals", journal("checkout survives", passed=False))
    github.route("GET", ISSUES_QUERY, (200, {}, []))
    proc = aftershock("ci", "summary", "--issue-after", "3", env=issue_env(tmp_path, github, db))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", ISSUES_QUERY)]


def test_issue_commented_when_open(aftershock, tmp_path, github):
    db = failing_history(aftershock, tmp_path, 4)
    write_journals(tmp_path / "journals", journal("checkout survives", passed=False))
    marker = '<!-- aftershock:issue experiment="checkout survives" -->'
    github.route("GET", ISSUES_QUERY, (200, {}, [{"number": 12, "body": marker + "\nold"}]))
    github.route("POST", f"/repos/{REPO}/issues/12/comments", (201, {}, {"id": 1}))
    proc = aftershock("ci", "summary", "--issue-after", "3", env=issue_env(tmp_path, github, db))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", ISSUES_QUERY), ("POST", f"/repos/{REPO}/issues/12/comments")]
    comment = github.requests[1].body
    assert list(comment) == ["body"]
    assert comment["body"].startswith("Failed again on `main` (4 runs in a row): failed")
    assert "https://github.example/octo/shop/actions/runs/42" in comment["body"]


def test_issue_closed_when_passing(aftershock, tmp_path, github):
    db = failing_history(aftershock, tmp_path, 3)
    write_journals(tmp_path / "journals", journal("checkout survives", passed=True))
    marker = '<!-- aftershock:issue experiment="checkout survives" -->'
    github.route("GET", ISSUES_QUERY, (200, {}, [{"number": 12, "body": marker}]))
    github.route("POST", f"/repos/{REPO}/issues/12/comments", (201, {}, {"id": 1}))
    github.route("PATCH", f"/repos/{REPO}/issues/12", (200, {}, {"number": 12}))
    proc = aftershock("ci", "summary", "--issue-after", "3", env=issue_env(tmp_path, github, db))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", ISSUES_QUERY),
                              ("POST", f"/repos/{REPO}/issues/12/comments"),
                              ("PATCH", f"/repos/{REPO}/issues/12")]
    assert github.requests[1].body["body"].startswith("The experiment passed again on `main`")
    assert github.requests[2].body == {"state": "closed", "state_reason": "completed"}
    assert "closed issue #12" in proc.stdout


def test_issues_left_alone_off_default_branch(aftershock, tmp_path, github):
    db = failing_history(aftershock, tmp_path, 3)
    write_journals(tmp_path / "journals", journal("checkout survives", passed=False))
    env = issue_env(tmp_path, github, db)
    env["GITHUB_REF_NAME"] = "feature"
    proc = aftershock("ci", "summary", "--issue-after", "1", env=env)
    assert proc.returncode == 0
    assert github.calls() == []
    assert "branch 'feature' (from GITHUB_REF_NAME) is not the default branch 'main'" \
        in proc.stdout


def test_issue_opened_without_github_sha(aftershock, tmp_path, github):
    db = failing_history(aftershock, tmp_path, 1)
    write_journals(tmp_path / "journals", journal("checkout survives", passed=False))
    github.route("GET", ISSUES_QUERY, (200, {}, []))
    github.route("POST", f"/repos/{REPO}/issues", (201, {}, {"number": 5}))
    env = issue_env(tmp_path, github, db)
    del env["GITHUB_SHA"]
    proc = aftershock("ci", "summary", "--issue-after", "1", "--default-branch", "main",
                      env=env)
    assert proc.returncode == 0, proc.stderr
    assert "issues left alone" not in proc.stdout
    assert github.calls() == [("GET", ISSUES_QUERY), ("POST", f"/repos/{REPO}/issues")]
    assert "opened issue #5: 'checkout survives' failed 1 run in a row" in proc.stdout


def test_server_error_is_retried(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS, (500, {}, {"message": "boom"}), (502, {}, {}), (200, {}, []))
    github.route("POST", f"/repos/{REPO}/issues/7/comments", (201, {}, {"id": 9}))
    proc = aftershock("ci", "summary", "--comment", "--retry-delay", "0.05",
                      env=github_env(tmp_path, github))
    assert proc.returncode == 0, proc.stderr
    assert github.calls() == [("GET", COMMENTS)] * 3 + [("POST", f"/repos/{REPO}/issues/7/comments")]


def test_server_error_gives_up(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS, (503, {}, {"message": "unavailable"}))
    env = github_env(tmp_path, github)
    proc = aftershock("ci", "summary", "--comment", "--retries", "2", "--retry-delay", "0.05",
                      env=env)
    assert proc.returncode == 0
    assert github.calls() == [("GET", COMMENTS)] * 3
    assert "503" in proc.stderr
    assert "3 attempts" in proc.stderr
    strict = aftershock("ci", "summary", "--comment", "--strict", "--retries", "0", env=env)
    assert strict.returncode == 3
    assert_token_hidden(strict)


def test_rate_limit_waits_for_retry_after(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS,
                 (403, {"Retry-After": "1", "X-RateLimit-Remaining": "0"},
                  {"message": "API rate limit exceeded"}),
                 (200, {}, []))
    github.route("POST", f"/repos/{REPO}/issues/7/comments", (201, {}, {"id": 9}))
    proc = aftershock("ci", "summary", "--comment", "--retry-delay", "0.01",
                      env=github_env(tmp_path, github))
    assert proc.returncode == 0, proc.stderr
    assert github.calls()[:2] == [("GET", COMMENTS), ("GET", COMMENTS)]
    assert github.requests[1].at - github.requests[0].at >= 0.9
    assert github.calls()[2] == ("POST", f"/repos/{REPO}/issues/7/comments")


def test_forbidden_without_rate_limit_is_reported(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS, (403, {"X-RateLimit-Remaining": "4000"},
                                   {"message": "Resource not accessible by integration"}))
    proc = aftershock("-v", "ci", "summary", "--comment", env=github_env(tmp_path, github))
    assert proc.returncode == 0
    assert github.calls() == [("GET", COMMENTS)]
    assert "403" in proc.stderr
    assert "pull-requests: write" in proc.stderr
    assert "Resource not accessible by integration" in proc.stderr
    assert_token_hidden(proc)


def test_not_found_is_reported(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS, (404, {}, {"message": "Not Found"}))
    env = github_env(tmp_path, github)
    proc = aftershock("ci", "summary", "--comment", env=env)
    assert proc.returncode == 0
    assert github.calls() == [("GET", COMMENTS)]
    assert "404" in proc.stderr
    assert "GITHUB_REPOSITORY" in proc.stderr
    strict = aftershock("ci", "summary", "--comment", "--strict", env=env)
    assert strict.returncode == 3
    assert_token_hidden(strict)


def test_token_echoed_by_server_is_masked(aftershock, tmp_path, github):
    write_journals(tmp_path / "journals", journal("a"))
    github.route("GET", COMMENTS, (401, {}, {"message": f"Bad credentials {TOKEN}"}))
    proc = aftershock("-v", "ci", "summary", "--comment", env=github_env(tmp_path, github))
    assert proc.returncode == 0
    assert "401" in proc.stderr
    assert "GITHUB_TOKEN" in proc.stderr
    assert_token_hidden(proc)
