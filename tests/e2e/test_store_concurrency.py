"""End-to-end test of parallel writers on one SQLite store: nothing lost, nothing failed.
A correctness test: it can take a while on a slow machine and asserts no time."""
import sqlite3
import subprocess

from conftest import chaos_journal

WRITERS = 8
RUNS_EACH = 500


def test_parallel_writers_lose_no_run(aftershock, write_journals):
    store = aftershock.cwd / "shared" / "history.db"
    commands = []
    for writer in range(WRITERS):
        journals = [
            chaos_journal(f"writer-{writer}",
                          f"2026-03-{1 + i // 100:02d}T{(i // 10) % 10:02d}:{i % 60:02d}:"
                          f"{writer:02d}.000000Z",
                          method_errors=[f"connection refused by 127.0.0.1:{9000 + i}"])
            for i in range(RUNS_EACH)]
        paths = write_journals(journals, f"writer-{writer}")
        commands.append([aftershock.bin, "history", "import", "--db", str(store),
                         *map(str, paths)])

    # Every writer starts before any finishes; the store does not exist yet, so
    # they also race to create it and its schema.
    procs = [subprocess.Popen(command, cwd=aftershock.cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for command in commands]
    results = [proc.communicate(timeout=1200) for proc in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert "error" not in err, err
        assert f"recorded {RUNS_EACH} journals" in out

    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM chaos_runs").fetchone()[0] == WRITERS * RUNS_EACH
        per_writer = dict(db.execute("SELECT experiment, COUNT(*) FROM chaos_runs "
                                     "GROUP BY experiment").fetchall())
        assert per_writer == {f"writer-{w}": RUNS_EACH for w in range(WRITERS)}
        assert db.execute("SELECT COUNT(*) FROM chaos_failures").fetchone()[0] == \
            WRITERS * RUNS_EACH
        orphans = db.execute("SELECT COUNT(*) FROM chaos_failures f LEFT JOIN chaos_runs r "
                             "ON r.id = f.run_id WHERE r.id IS NULL").fetchone()[0]
        assert orphans == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
