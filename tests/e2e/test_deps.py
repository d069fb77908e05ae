"""End-to-end tests of `aftershock deps`: the real binary on project folders the tests write."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ORACLE = HERE.parent / "deps" / "ast_imports.py"


def write(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def imports_of(aftershock, *paths):
    result = aftershock("deps", "--imports", "--format", "json", *paths)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    return {f["path"]: [(i["module"], i["line"], i["optional"], i["dynamic"])
                        for i in f["imports"]] for f in doc["files"]}, doc["errors"]


def findings(aftershock, *args, python=sys.executable):
    result = aftershock("deps", "--format", "json", "--python", python, *args)
    assert result.returncode in (0, 1, 2), result.stderr
    return result, json.loads(result.stdout)


def codes(doc):
    return sorted((f["code"], f.get("module") or f.get("distribution")) for f in doc["findings"])


# --- the oracle ------------------------------------------------------------------------------

def test_stdlib_matches_python_ast(aftershock):
    """Every .py file of this Python's standard library: the same modules and lines as ast."""
    stdlib = sysconfig.get_paths()["stdlib"]
    excludes = ["--exclude", "site-packages", "--exclude", "dist-packages"]
    ours = aftershock("deps", "--imports", "--format", "json", stdlib, *excludes, timeout=600)
    assert ours.returncode == 0, ours.stderr
    ref = subprocess.run([sys.executable, str(ORACLE), stdlib, *excludes], capture_output=True,
                         text=True, timeout=1800, check=True)
    ours, ref = json.loads(ours.stdout), json.loads(ref.stdout)

    ref_files = {f["path"]: sorted((i["module"], i["line"]) for i in f["imports"])
                 for f in ref["files"]}
    our_files = {f["path"]: sorted((i["module"], i["line"]) for i in f["imports"]
                                   if not i["dynamic"]) for f in ours["files"]}
    assert len(ref_files) > 100
    assert sorted(e["path"] for e in ours["errors"]) == sorted(e["path"] for e in ref["errors"])
    assert set(our_files) == set(ref_files)
    differing = [path for path in ref_files if our_files[path] != ref_files[path]]
    assert differing == []


# --- finding imports: one edge case each ---------------------------------------------------------

def test_imports_in_strings_and_docstrings(aftershock, tmp_path):
    write(tmp_path, {"m.py": '"""\nimport fake_one\n"""\ns = "import fake_two"\n'
                             "t = '''from fake import x'''\n# import fake_three\n"})
    files, errors = imports_of(aftershock, "m.py")
    assert files == {"m.py": []}
    assert errors == []


def test_backslash_continuation(aftershock, tmp_path):
    write(tmp_path, {"m.py": "import alpha, \\\n    beta\n"})
    files, _ = imports_of(aftershock, "m.py")
    assert files["m.py"] == [("alpha", 1, False, False), ("beta", 2, False, False)]


def test_parenthesised_multiline_from(aftershock, tmp_path):
    write(tmp_path, {"m.py": "from alpha.beta import (\n    one,\n    two as three,\n)\n"})
    files, _ = imports_of(aftershock, "m.py")
    assert files["m.py"] == [("alpha.beta", 1, False, False)]


def test_several_imports_and_semicolons(aftershock, tmp_path):
    write(tmp_path, {"m.py": "import a, b; import c\nx = 1; from d import e\n"})
    files, _ = imports_of(aftershock, "m.py")
    assert [m for m, *_ in files["m.py"]] == ["a", "b", "c", "d"]


def test_as_alias_reports_module(aftershock, tmp_path):
    write(tmp_path, {"m.py": "import a.b.c as d\n"})
    files, _ = imports_of(aftershock, "m.py")
    assert files["m.py"] == [("a.b.c", 1, False, False)]


def test_relative_imports_are_first_party(aftershock, tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": "from . import x\nfrom ..y import z\n",
                     "requirements.txt": ""})
    files, _ = imports_of(aftershock, ".")
    assert files["pkg/m.py"] == []
    result, doc = findings(aftershock)
    assert result.returncode == 0
    assert doc["findings"] == []


def test_try_except_import_error_is_optional(aftershock, tmp_path):
    write(tmp_path, {"m.py": "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n",
                     "requirements.txt": "# nothing\n"})
    files, _ = imports_of(aftershock, "m.py")
    assert files["m.py"] == [("ujson", 2, True, False)]
    result, doc = findings(aftershock)
    assert result.returncode == 0
    assert codes(doc) == [("DEP004", "ujson")]


def test_type_checking_with_else(aftershock, tmp_path):
    write(tmp_path, {"m.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                             "    import pandas\nelse:\n    import numpy\n",
                     "requirements.txt": ""})
    files, _ = imports_of(aftershock, "m.py")
    assert files["m.py"] == [("typing", 1, False, False), ("pandas", 3, True, False),
                             ("numpy", 5, False, False)]
    result, doc = findings(aftershock)
    assert result.returncode == 1
    assert codes(doc) == [("DEP001", "numpy"), ("DEP004", "pandas")]


def test_dynamic_imports(aftershock, tmp_path):
    write(tmp_path, {"m.py": "import importlib\nm = importlib.import_module('yaml')\n"
                             "n = __import__(\"requests\")\nimportlib.import_module(name)\n"})
    files, _ = imports_of(aftershock, "m.py")
    assert files["m.py"] == [("importlib", 1, False, False), ("yaml", 2, False, True),
                             ("requests", 3, False, True)]


def test_notebook_with_magics(aftershock, tmp_path):
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["import not_code\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["%matplotlib inline\n", "!pip install nothing\n", "import numpy as np\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "%%bash\nimport not_python\n"},
    ]}
    write(tmp_path, {"analysis.ipynb": json.dumps(notebook)})
    files, errors = imports_of(aftershock, ".")
    assert files["analysis.ipynb"] == [("numpy", 3, False, False)]
    assert errors == []


def test_latin1_file_with_coding_line(aftershock, tmp_path):
    write(tmp_path, {"m.py": b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\nimport yaml\n",
                     "bad.py": b"name = '\xe9t\xe9'\nimport yaml\n"})
    files, errors = imports_of(aftershock, ".")
    assert files["m.py"] == [("yaml", 3, False, False)]
    assert [e["path"] for e in errors] == ["bad.py"]
    assert errors[0]["line"] == 1


def test_file_name_not_utf8(aftershock, tmp_path):
    (tmp_path / "caf\xe9.py".encode("latin-1").decode("utf-8", "surrogateescape")).write_text(
        "import yaml\nprint 'x'\n")
    (tmp_path / "ok.py").write_text("import yaml\n")
    files, errors = imports_of(aftershock, ".")
    assert files == {"ok.py": [("yaml", 1, False, False)]}
    assert [e["path"] for e in errors] == ["caf\ufffd.py"]
    result, doc = findings(aftershock, "--python", "/nonexistent/python")
    assert sorted(f["path"] for f in doc["findings"]) == ["caf\ufffd.py", "ok.py"]


def test_python2_file_does_not_stop_scan(aftershock, tmp_path):
    write(tmp_path, {"a_old.py": "import os\nprint 'hello'\n", "b_new.py": "import yaml\n",
                     "requirements.txt": "PyYAML\n"})
    files, errors = imports_of(aftershock, ".")
    assert files["b_new.py"] == [("yaml", 1, False, False)]
    assert [(e["path"], e["line"]) for e in errors] == [("a_old.py", 2)]
    result = aftershock("deps", "--python", sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a_old.py:2:1: DEP005" in result.stdout


def test_local_module_shadows_pypi_name(aftershock, tmp_path):
    write(tmp_path, {"main.py": "import requests\nimport yaml\n",
                     "requests.py": "def get(url):\n    return url\n",
                     "requirements.txt": "PyYAML\n"})
    result, doc = findings(aftershock)
    assert result.returncode == 0
    assert doc["findings"] == []


def test_src_layout(aftershock, tmp_path):
    write(tmp_path, {"src/mypkg/__init__.py": "", "src/mypkg/core.py": "import mypkg.util\n",
                     "src/mypkg/util.py": "", "tests/test_core.py": "from mypkg import core\n",
                     "requirements.txt": ""})
    result, doc = findings(aftershock)
    assert result.returncode == 0, doc["findings"]
    assert doc["findings"] == []


def test_namespace_package(aftershock, tmp_path):
    write(tmp_path, {"company/tools/helpers.py": "x = 1\n",
                     "app.py": "from company.tools import helpers\n", "requirements.txt": ""})
    result, doc = findings(aftershock)
    assert result.returncode == 0, doc["findings"]
    assert doc["findings"] == []


def test_first_party_option(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import internal_lib\n", "requirements.txt": ""})
    result, doc = findings(aftershock)
    assert result.returncode == 1
    assert codes(doc) == [("DEP001", "internal_lib")]
    result, doc = findings(aftershock, "--first-party", "internal_lib")
    assert result.returncode == 0


def test_skipped_and_excluded_folders(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import os\n", ".venv/lib/x.py": "import a\n",
                     "node_modules/x.py": "import b\n", "env2/pyvenv.cfg": "home = /usr\n",
                     "env2/lib/y.py": "import c\n", "build/z.py": "import d\n",
                     "generated/w.py": "import e\n"})
    files, _ = imports_of(aftershock, ".", "--exclude", "generated")
    assert sorted(files) == ["app.py"]


# --- deciding what is missing -----------------------------------------------------------------

def test_known_mismatches_and_normalisation(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import yaml\nimport PIL.Image\nimport dateutil.parser\n"
                               "import sklearn\nimport bs4\n",
                     "requirements.txt": "pyyaml\npillow>=10\nPython_Dateutil\n"
                                         "scikit.learn\nBeautifulSoup4\n"})
    result, doc = findings(aftershock, "--python", "/nonexistent/python")
    assert result.returncode == 0, doc["findings"]
    assert doc["findings"] == []
    assert doc["python_found"] is False
    assert "using the built-in standard-library table" in result.stderr


def test_missing_unused_and_stdlib_declared(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import os\nimport cv2\nimport requests\n",
                     "requirements.txt": "requests\nflask\nargparse\n"})
    result, doc = findings(aftershock, "--python", "/nonexistent/python")
    assert result.returncode == 1
    assert codes(doc) == [("DEP001", "cv2"), ("DEP002", "flask"), ("DEP003", "argparse")]
    missing = [f for f in doc["findings"] if f["code"] == "DEP001"][0]
    assert (missing["path"], missing["line"], missing["column"]) == ("app.py", 2, 8)
    assert missing["distribution"] == "opencv-python"
    assert doc["missing"] == [{"distribution": "opencv-python", "declared": False,
                               "modules": ["cv2"]}]


def test_requirements_includes_and_pyproject(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import requests\nimport yaml\nimport click\nimport attr\n",
                     "requirements.txt": "-r requirements/base.txt\n-c constraints.txt\n",
                     "requirements/base.txt": "requests\n", "constraints.txt": "attrs==23.1\n",
                     "pyproject.toml": "[project]\nname = \"demo\"\ndependencies = [\"PyYAML\"]\n"
                                       "[tool.poetry.dependencies]\npython = \"^3.11\"\n"
                                       "click = \"^8\"\n"})
    result, doc = findings(aftershock, "--python", "/nonexistent/python")
    assert codes(doc) == [("DEP001", "attr")]
    paths = {f["path"]: f["included"] for f in doc["requirements_files"]}
    assert paths == {"requirements.txt": False, "requirements/base.txt": True,
                     "constraints.txt": True, "pyproject.toml": False}


def test_text_and_github_formats(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import yaml\n", "requirements.txt": ""})
    result = aftershock("deps", "--python", "/nonexistent/python")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == \
        "app.py:1:8: DEP001 'yaml' is imported but 'PyYAML' is not declared"
    result = aftershock("deps", "--python", "/nonexistent/python", "--format", "github")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == \
        "::error file=app.py,line=1,col=8,title=DEP001::'yaml' is imported but 'PyYAML' " \
        "is not declared"


@pytest.mark.parametrize("position", ["global", "command"])
def test_quiet_prints_only_findings(aftershock, tmp_path, position):
    write(tmp_path, {"app.py": "import yaml\n", "requirements.txt": ""})
    args = ["-q", "deps"] if position == "global" else ["deps", "-q"]
    result = aftershock(*args, "--python", sys.executable)
    assert result.returncode == 1
    assert result.stdout.splitlines() == \
        ["app.py:1:8: DEP001 'yaml' is imported but 'PyYAML' is not declared"]
    assert "scanned" not in result.stderr
    loud = aftershock("deps", "--python", sys.executable)
    assert "scanned" in loud.stderr


def test_summary_counts_singular_and_plural(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import yaml\n", "requirements.txt": ""})
    result = aftershock("deps", "--python", sys.executable)
    assert result.returncode == 1
    assert "1 file scanned: 1 missing, 0 unused, 1 error, 0 warnings" in result.stderr
    write(tmp_path, {"b.py": "import cv2\n", "requirements.txt": "os\n"})
    result = aftershock("deps", "--python", sys.executable, "--output", "audit.md")
    assert result.returncode == 1
    assert "2 files scanned: 2 missing, 0 unused, 2 errors, 1 warning" in result.stderr
    report = (tmp_path / "reports" / "audit.md").read_text()
    assert "- 2 Python files and notebooks" in report
    assert "2 missing, 0 unused, 2 errors, 1 warning." in report


def test_markdown_audit_report(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import yaml\n", "requirements.txt": "# deps\n"})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix", "--output",
                        "deps-audit.md")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "reports" / "deps-audit.md").read_text()
    assert "# Dependency audit" in report
    assert "DEP001" in report
    assert "Appended to `requirements.txt`" in report
    assert "- 1 Python file or notebook" in report
    assert "- `PyYAML`" in report


# --- finding requirements files -------------------------------------------------------------

def test_single_file_reads_requirements_beside_it(aftershock, tmp_path):
    write(tmp_path, {"a.py": "import requests\n", "requirements.txt": "requests\n"})
    result, doc = findings(aftershock, "a.py")
    assert result.returncode == 0, doc["findings"]
    assert doc["findings"] == []
    assert [f["path"] for f in doc["requirements_files"]] == ["requirements.txt"]


@pytest.mark.parametrize("marker", [".git", "pyproject.toml", "aftershock.yaml"])
def test_requirements_found_up_to_project_root(aftershock, tmp_path, marker):
    files = {"proj/requirements.txt": "requests\n", "proj/src/pkg/m.py": "import requests\n"}
    if marker == "pyproject.toml":
        files["proj/pyproject.toml"] = "[project]\nname = \"demo\"\n"
    elif marker == "aftershock.yaml":
        files["proj/aftershock.yaml"] = "experiments: []\n"
    write(tmp_path, files)
    if marker == ".git":
        (tmp_path / "proj" / ".git").mkdir()
    for path in ("proj/src/pkg/m.py", "proj/src"):
        result, doc = findings(aftershock, path)
        assert result.returncode == 0, (path, doc["findings"])
        assert "proj/requirements.txt" in [f["path"] for f in doc["requirements_files"]]


def test_requirements_above_start_ignored_without_root(aftershock, tmp_path):
    write(tmp_path, {"requirements.txt": "requests\n", "sub/a.py": "import requests\n"})
    result, doc = findings(aftershock, "sub/a.py")
    assert result.returncode == 1
    assert codes(doc) == [("DEP001", "requests")]
    assert doc["requirements_files"] == []


def test_requirements_search_stops_at_root(aftershock, tmp_path):
    write(tmp_path, {"requirements.txt": "requests\n", "proj/aftershock.yaml": "",
                     "proj/a.py": "import requests\n"})
    result, doc = findings(aftershock, "proj/a.py")
    assert result.returncode == 1
    assert codes(doc) == [("DEP001", "requests")]


def test_fix_for_single_file_writes_beside_it(aftershock, tmp_path):
    write(tmp_path, {"sub/a.py": "import yaml\n"})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix", "sub/a.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "sub" / "requirements.txt").read_text() == "PyYAML\n"


def test_help_has_blank_line_before_options(aftershock):
    result = aftershock("deps", "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "options:" in lines
    assert lines[lines.index("options:") - 1] == ""


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--format", "xml"], "invalid --format 'xml'"),
    (["--python-version", "2.7"], "invalid --python-version '2.7'"),
    (["--pin"], "--pin only applies with --fix"),
    (["--pip-args", "-q"], "--pip-args only applies with --install"),
    (["no-such-folder"], "no-such-folder"),
    (["--requirements", "missing.txt"], "missing.txt"),
])
def test_invalid_input_exits_2(aftershock, tmp_path, args, message):
    result = aftershock("deps", "--python", "/nonexistent/python", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_unparseable_requirements_never_rewritten(aftershock, tmp_path):
    original = b"requests\nthis is not valid\n"
    write(tmp_path, {"app.py": "import yaml\n", "requirements.txt": original})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix")
    assert result.returncode == 2
    assert "requirements.txt:2:1: DEP006" in result.stdout
    assert "hint: fix the line reported as DEP006" in result.stderr
    assert (tmp_path / "requirements.txt").read_bytes() == original


def test_pyproject_is_not_edited(aftershock, tmp_path):
    original = "[project]\nname = \"demo\"\ndependencies = []\n"
    write(tmp_path, {"app.py": "import yaml\n", "pyproject.toml": original})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix", "--requirements",
                        "pyproject.toml")
    assert result.returncode == 2
    assert "does not edit pyproject.toml" in result.stderr
    assert "DEP006" not in result.stderr
    assert "-r pyproject.toml -r requirements.txt" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == original


def test_pyproject_with_requirements_file_fixed(aftershock, tmp_path):
    original = "[project]\nname = \"demo\"\ndependencies = []\n"
    write(tmp_path, {"app.py": "import yaml\n", "pyproject.toml": original,
                     "requirements.txt": ""})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix", "-r",
                        "pyproject.toml", "-r", "requirements.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "requirements.txt").read_text() == "PyYAML\n"
    assert (tmp_path / "pyproject.toml").read_text() == original


# --- fixing ------------------------------------------------------------------------------------

FIX_CASES = {
    "comments": b"# Runtime dependencies\n\nrequests>=2.0  # http client\n",
    "hashes": b"requests==2.31.0 \\\n    --hash=sha256:0000 \\\n    --hash=sha256:1111\n",
    "includes": b"-r base.txt\n-c constraints.txt\n--index-url https://example.invalid/simple\n",
    "markers": b"requests; python_version >= \"3.8\"\nflask[async]==2.3 ; sys_platform != 'win32'",
    "crlf": b"# CRLF file\r\nrequests==2.31.0 \\\r\n    --hash=sha256:0000\r\n\r\n",
    "continuation": b"requests \\\n",
}


@pytest.mark.parametrize("case", sorted(FIX_CASES))
def test_fix_appends_exactly_the_missing_lines(aftershock, tmp_path, case):
    original = FIX_CASES[case]
    write(tmp_path, {"app.py": "import requests\nimport yaml\nimport cv2\n",
                     "requirements.txt": original, "base.txt": "requests\n",
                     "constraints.txt": "requests<3\n"})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix")
    assert result.returncode == 0, result.stdout + result.stderr
    updated = (tmp_path / "requirements.txt").read_bytes()
    eol = b"\r\n" if b"\r\n" in original else b"\n"
    prefix = original if original.endswith(b"\n") or not original else original + eol
    if original.rstrip(b"\r\n").endswith(b"\\") and original.count(b"\n") <= 1:
        prefix += eol
    assert updated == prefix + b"PyYAML" + eol + b"opencv-python" + eol
    again = aftershock("deps", "--python", "/nonexistent/python")
    assert again.returncode == 0, again.stdout


def test_fix_creates_requirements_when_none(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import yaml\n"})
    result = aftershock("deps", "--python", "/nonexistent/python", "--fix")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "requirements.txt").read_text() == "PyYAML\n"


def test_fix_pin_uses_installed_version(aftershock, tmp_path):
    venv = make_venv(tmp_path)
    site = Path(subprocess.run([str(venv), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    dist = site / "pinme-4.5.6.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pinme\nVersion: 4.5.6\n")
    (dist / "top_level.txt").write_text("pinme_mod\n")
    write(tmp_path, {"proj/app.py": "import pinme_mod\n", "proj/requirements.txt": "\n"})
    result = aftershock("deps", "--python", str(venv), "--fix", "--pin", "proj")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "proj" / "requirements.txt").read_text() == "\npinme==4.5.6\n"


def test_namespace_package_providers(aftershock, tmp_path):
    """Two installed distributions share the top-level name; declaring either covers it."""
    venv = make_venv(tmp_path)
    site = Path(subprocess.run([str(venv), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in ("nsx-alpha", "nsx-beta"):
        dist = site / f"{name.replace('-', '_')}-1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (dist / "RECORD").write_text(f"nsx/{name[4:]}/__init__.py,,\n{dist.name}/METADATA,,\n")
    write(tmp_path, {"proj/app.py": "import nsx.beta\n", "proj/requirements.txt": "nsx_beta\n"})
    result, doc = findings(aftershock, "proj", python=str(venv))
    assert result.returncode == 0, doc["findings"]
    assert doc["findings"] == []


# --- installing ------------------------------------------------------------------------------------

def make_venv(tmp_path):
    """A virtual environment of the test's own Python, using its pip without downloading one."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True, timeout=300)
    return venv / "bin" / "python"


def build_wheel(folder, name, module):
    """Writes a pure-Python wheel by hand: a zip with the module and its dist-info files."""
    folder.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-1.0.dist-info"
    files = {
        f"{module}/__init__.py": f"VALUE = {module!r}\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n",
        f"{dist_info}/top_level.txt": f"{module}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(folder / f"{name}-1.0-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def test_install_from_local_wheels(aftershock, tmp_path):
    venv = make_venv(tmp_path)
    if subprocess.run([str(venv), "-m", "pip", "--version"], capture_output=True).returncode:
        pytest.fail("pip is not available to the test's Python: install python3-pip")
    build_wheel(tmp_path / "wheels", "tinymod", "tinymod")
    write(tmp_path, {"proj/app.py": "import tinymod\n", "proj/requirements.txt": "# deps\n"})
    probe = subprocess.run([str(venv), "-c", "import tinymod"], capture_output=True)
    assert probe.returncode != 0

    result = aftershock("deps", "proj", "--fix", "--install", "--python", str(venv),
                        "--pip-args", f"--no-index --find-links {tmp_path / 'wheels'}",
                        "--format", "json", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["installed"] == [{"distribution": "tinymod", "ok": True, "message": ""}]
    assert doc["importable"] == [{"module": "tinymod", "ok": True, "message": ""}]
    assert (tmp_path / "proj" / "requirements.txt").read_text() == "# deps\ntinymod\n"
    probe = subprocess.run([str(venv), "-c", "import tinymod; print(tinymod.VALUE)"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "tinymod"


def test_install_failure_reported_per_package(aftershock, tmp_path):
    venv = make_venv(tmp_path)
    build_wheel(tmp_path / "wheels", "goodmod", "goodmod")
    write(tmp_path, {"proj/app.py": "import goodmod\nimport nowheelmod\n"})
    result = aftershock("deps", "proj", "--install", "--python", str(venv),
                        "--pip-args", f"--no-index --find-links {tmp_path / 'wheels'}",
                        "--format", "json", timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    outcomes = {o["distribution"]: o["ok"] for o in doc["installed"]}
    assert outcomes == {"goodmod": True, "nowheelmod": False}
    importable = {o["module"]: o["ok"] for o in doc["importable"]}
    assert importable == {"goodmod": True, "nowheelmod": False}


SYSTEM_PYTHON = Path("/usr/bin/python3")


def system_python_is_managed():
    """True when /usr/bin/python3 has PEP 668's EXTERNALLY-MANAGED marker, as on Debian 12."""
    if not SYSTEM_PYTHON.exists():
        return False
    stdlib = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sysconfig; "
                             "print(sysconfig.get_paths()['stdlib'])"],
                            capture_output=True, text=True).stdout.strip()
    return bool(stdlib) and (Path(stdlib) / "EXTERNALLY-MANAGED").exists()


@pytest.mark.skipif(not system_python_is_managed(),
                    reason="/usr/bin/python3 is not externally managed (PEP 668) here")
def test_install_into_managed_python_explained(aftershock, tmp_path):
    # Nothing can be installed even if pip accepted the interpreter: no index, an empty
    # wheel folder and a distribution name that exists nowhere.
    (tmp_path / "wheels").mkdir()
    write(tmp_path, {"proj/app.py": "import aftershock_no_such_module\n"})
    result = aftershock("deps", "proj", "--install", "--python", str(SYSTEM_PYTHON),
                        "--pip-args",
                        f"--no-index --find-links {tmp_path / 'wheels'}", timeout=600,
                        env={"PIP_BREAK_SYSTEM_PACKAGES": "0", "PIP_FIND_LINKS": ""})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "managed by the system (PEP 668)" in result.stderr
    assert "python3 -m venv .venv" in result.stderr
    assert "--python .venv/bin/python" in result.stderr
    assert "install failed" not in result.stdout


def test_install_without_interpreter_exits_3(aftershock, tmp_path):
    write(tmp_path, {"app.py": "import yaml\n"})
    result = aftershock("deps", "--install", "--python", "/nonexistent/python")
    assert result.returncode == 3
    assert "/nonexistent/python" in result.stderr
