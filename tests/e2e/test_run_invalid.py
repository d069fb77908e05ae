"""Invalid experiments fail before anything runs, with every problem listed, exit 2."""
import json

import pytest


def base():
    return {
        "title": "t",
        "description": "d",
        "steady-state-hypothesis": {"title": "h", "probes": [
            {"type": "probe", "name": "p", "tolerance": 0,
             "provider": {"type": "process", "path": "/bin/true"}}]},
        "method": [{"type": "action", "name": "a",
                    "provider": {"type": "process", "path": "/bin/sh",
                                 "arguments": ["-c", "touch ran"]}}],
    }


def without(key):
    def change(doc):
        del doc[key]
    return change


def hypothesis_without_title(doc):
    del doc["steady-state-hypothesis"]["title"]


def probe_without_tolerance(doc):
    del doc["steady-state-hypothesis"]["probes"][0]["tolerance"]


def unknown_provider(doc):
    doc["method"][0]["provider"]["type"] = "teleport"


def unknown_ref(doc):
    doc["method"].append({"ref": "no-such-activity"})


def missing_process_path(doc):
    doc["method"][0]["provider"]["path"] = "/nonexistent/tool-xyz"


def float_tolerance(doc):
    doc["steady-state-hypothesis"]["probes"][0]["tolerance"] = 0.5


CASES = [
    ("missing-title", without("title"), "title"),
    ("missing-description", without("description"), "description"),
    ("missing-method", without("method"), "method"),
    ("hypothesis-title", hypothesis_without_title, "steady-state-hypothesis"),
    ("probe-tolerance", probe_without_tolerance, "tolerance"),
    ("unknown-provider", unknown_provider, "teleport"),
    ("unknown-ref", unknown_ref, "no-such-activity"),
    ("process-path", missing_process_path, "/nonexistent/tool-xyz"),
    ("float-tolerance", float_tolerance, "tolerance"),
]


@pytest.mark.parametrize("name,change,needle", CASES, ids=[c[0] for c in CASES])
def test_invalid_experiment_rejected(aftershock, tmp_path, name, change, needle):
    doc = base()
    change(doc)
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    result = aftershock("run", "bad.json")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("aftershock: error: bad.json:")]
    assert lines, result.stderr
    assert any(needle in line for line in lines), result.stderr
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "journal.json").exists()


def test_every_problem_listed(aftershock, tmp_path):
    doc = base()
    del doc["title"]
    del doc["description"]
    unknown_provider(doc)
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    result = aftershock("run", "bad.json")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("aftershock: error: bad.json:")]
    assert len(errors) >= 3, result.stderr


def test_unsafe_yaml_tag_rejected(aftershock, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "title: !!python/object/apply:os.system ['touch pwned']\n"
        "description: d\nmethod: []\n")
    result = aftershock("run", "bad.yaml")
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr
    assert "tag" in result.stderr
    assert not (tmp_path / "pwned").exists()


def test_invalid_json_names_line(aftershock, tmp_path):
    (tmp_path / "bad.json").write_text('{"title": "t",\n "description": }\n')
    result = aftershock("run", "bad.json")
    assert result.returncode == 2
    assert "bad.json" in result.stderr
    assert ":2" in result.stderr


def test_missing_file(aftershock):
    result = aftershock("run", "no-such-file.yaml")
    assert result.returncode == 2
    assert "no-such-file.yaml" in result.stderr


def test_bad_strategy_option(aftershock, tmp_path):
    (tmp_path / "exp.json").write_text(json.dumps(base()))
    result = aftershock("run", "--rollback-strategy", "sometimes", "exp.json")
    assert result.returncode == 2
    assert "'sometimes'" in result.stderr


def test_bad_var_option(aftershock, tmp_path):
    (tmp_path / "exp.json").write_text(json.dumps(base()))
    result = aftershock("run", "--var", "count:int=abc", "exp.json")
    assert result.returncode == 2
    assert "'count'" in result.stderr
    assert "'abc'" in result.stderr


def test_one_invalid_stops_all(aftershock, tmp_path):
    (tmp_path / "good.json").write_text(json.dumps(base()))
    bad = base()
    del bad["title"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = aftershock("run", "good.json", "bad.json")
    assert result.returncode == 2
    assert not (tmp_path / "ran").exists()
