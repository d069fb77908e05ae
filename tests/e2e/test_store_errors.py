"""End-to-end tests of stores that cannot be used: corrupt, newer, read-only, on a full disk.
`run` still writes its journal and exits 3 with a clear error."""
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import chaos_journal


def passing_experiment(folder):
    path = folder / "e.json"
    path.write_text(json.dumps({
        "title": "quick", "description": "d",
        "method": [{"type": "action", "name": "pause", "provider": {
            "type": "process", "path": "/bin/sleep", "arguments": "0.01"}}]}))
    return path


@pytest.fixture
def small_tmpfs(tmp_path):
    """Factory: a tmpfs of the given size mounted in the test folder (root only)."""
    mounted = []

    def mount(size="256k"):
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                 str(point)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs to simulate the condition: {result.stderr}")
        mounted.append(point)
        return point
    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_corrupt_store(aftershock):
    store = aftershock.cwd / "reports" / "chaos_history.db"
    store.parent.mkdir()
    store.write_bytes(bytes(range(256)) * 64)
    before = store.read_bytes()
    exp = passing_experiment(aftershock.cwd)

    result = aftershock("run", exp)
    assert result.returncode == 3
    assert "history store 'reports/chaos_history.db' is corrupt or not a SQLite database" in \
        result.stderr
    assert "the journal was still written" in result.stderr
    journal = json.loads((aftershock.cwd / "journal.json").read_text())
    assert journal["status"] == "completed"
    assert store.read_bytes() == before

    for args in (["history"], ["report", "--output", "-"]):
        listed = aftershock(*args)
        assert listed.returncode == 3
        assert "is corrupt" in listed.stderr


def test_damaged_pages(aftershock, write_journals):
    """A valid header with overwritten table pages: the damage is found when the pages are read."""
    paths = write_journals([chaos_journal("alpha", f"2026-03-01T10:{m:02d}:00.000000Z",
                                          method_errors=["x" * 2000]) for m in range(40)])
    assert aftershock("history", "import", *paths).returncode == 0
    store = aftershock.cwd / "reports" / "chaos_history.db"
    data = bytearray(store.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(page_size, len(data), 7):
        data[offset] = 0xA5
    store.write_bytes(bytes(data))

    result = aftershock("report", "--output", "-", "--now", "2026-03-02")
    assert result.returncode == 3
    assert "is corrupt" in result.stderr
    result = aftershock("history", "import", *paths[:1])
    assert result.returncode == 3


def test_newer_store_left_alone(aftershock):
    store = aftershock.cwd / "reports" / "chaos_history.db"
    store.parent.mkdir()
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE chaos_runs (id INTEGER PRIMARY KEY, future TEXT)")
        db.execute("PRAGMA user_version = 7")
    before = store.read_bytes()

    result = aftershock("run", passing_experiment(aftershock.cwd))
    assert result.returncode == 3
    assert "has schema version 7, newer than version 3" in result.stderr
    assert "upgrade aftershock" in result.stderr
    assert (aftershock.cwd / "journal.json").exists()
    assert store.read_bytes() == before
    assert not (store.parent / "chaos_history.db-wal").exists()


def test_read_only_store(aftershock, write_journals, small_tmpfs):
    folder = small_tmpfs("1m")
    store = folder / "h.db"
    paths = write_journals([chaos_journal("alpha", "2026-03-01T10:00:00.000000Z")])
    assert aftershock("history", "import", "--db", store, *paths).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

    result = aftershock("run", "--db", store, passing_experiment(aftershock.cwd))
    assert result.returncode == 3
    assert f"history store '{store}' is read-only" in result.stderr
    assert (aftershock.cwd / "journal.json").exists()
    listed = aftershock("history", "--db", store, "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["runs"]) == 1


def test_full_disk(aftershock, write_journals, small_tmpfs):
    folder = small_tmpfs("256k")
    store = folder / "h.db"
    paths = write_journals([chaos_journal("alpha", "2026-03-01T10:00:00.000000Z")])
    assert aftershock("history", "import", "--db", store, *paths).returncode == 0
    with open(folder / "fill", "wb", buffering=0) as fill:
        try:
            while True:
                fill.write(b"\0" * 4096)
        except OSError:
            pass
    assert os.statvfs(folder).f_bavail == 0

    result = aftershock("run", "--db", store, passing_experiment(aftershock.cwd))
    assert result.returncode == 3
    assert f"history store '{store}' could not grow because the disk is full" in result.stderr
    assert (aftershock.cwd / "journal.json").exists()
