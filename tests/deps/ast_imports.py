#!/usr/bin/env python3
"""Reference import finder: the absolute modules each file imports, as Python's ast sees them.

Walks the same files as `aftershock deps --imports` (same skipped folders) and
prints JSON in the same shape: {"files": [{"path", "imports": [{"module", "line"}]}],
"errors": [{"path", "message"}]}. Files ast cannot parse go to "errors".
"""
import argparse
import ast
import fnmatch
import json
import os
import sys

SKIPPED = {".git", ".hg", ".svn", ".bzr", "__pycache__", "node_modules", ".tox", ".nox",
           ".venv", "venv", ".eggs", "build", "dist", ".mypy_cache", ".pytest_cache",
           ".ruff_cache", ".ipynb_checkpoints", "__pypackages__"}


def excluded(patterns, rel, name):
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def walk(root, patterns):
    """Yield .py paths under root in the order aftershock sorts them."""
    found = []

    def visit(folder, rel, depth):
        if depth > 0 and os.path.exists(os.path.join(folder, "pyvenv.cfg")):
            return
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            sub_rel = f"{rel}/{entry.name}" if rel else entry.name
            if excluded(patterns, sub_rel, entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIPPED or entry.name.endswith(".egg-info"):
                    continue
                visit(entry.path, sub_rel, depth + 1)
            elif entry.name.endswith(".py") and entry.is_file():
                found.append(entry.path)

    visit(root, "", 0)
    return sorted(found, key=lambda p: p.encode("utf-8", "surrogateescape"))


def imports_of(tree):
    result = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                result.append({"module": alias.name, "line": getattr(alias, "lineno", node.lineno)})
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            result.append({"module": node.module, "line": node.lineno})
    result.sort(key=lambda item: (item["line"], item["module"]))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args()

    files, errors = [], []
    for path in walk(args.root.rstrip("/") or "/", args.exclude):
        try:
            with open(path, "rb") as handle:
                source = handle.read()
            tree = ast.parse(source, path)
        except (SyntaxError, ValueError) as error:
            errors.append({"path": path, "message": str(error)})
            continue
        files.append({"path": path, "imports": imports_of(tree)})
    json.dump({"files": files, "errors": errors}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
