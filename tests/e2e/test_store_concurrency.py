"""End-to-end test of parallel writers on one SQLite store: 8 `aftershock run` processes
record 500 runs each, one transaction per run, into a store that none of them has created
yet. Nothing may be lost and no writer may fail. A correctness test: it takes a while on
a slow machine and asserts no time."""
import json
import sqlite3
import subprocess

WRITERS = 8
RUNS_EACH = 500


def write_experiments(folder, writer):
    """RUNS_EACH experiment files whose one action is refused at once, so each run is quick
    and records one network failure."""
    folder.mkdir()
    paths = []
    for i in range(RUNS_EACH):
        path = folder / f"e{i:03d}.json"
        path.write_text(json.dumps({
            "title": f"writer-{writer}", "description": "parallel recording",
            "method": [{"type": "action", "name": "call-closed-port", "provider": {
                "type": "http", "url": f"http://127.0.0.1:1/{i}", "timeout": 1}}]}))
        paths.append(path)
    return paths


def test_parallel_runs_lose_no_record(aftershock):
    store = aftershock.cwd / "shared" / "history.db"
    commands = []
    for writer in range(WRITERS):
        folder = aftershock.cwd / f"writer-{writer}"
        paths = write_experiments(folder, writer)
        commands.append([aftershock.bin, "-q", "run", "--db", str(store), "--journal-path",
                         str(folder / "journal.json"), *map(str, paths)])

    procs = [subprocess.Popen(command, cwd=aftershock.cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for command in commands]
    results = [proc.communicate(timeout=3000) for proc in procs]
    for proc, (_, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert "error" not in err, err

    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM chaos_runs").fetchone()[0] == WRITERS * RUNS_EACH
        per_writer = dict(db.execute("SELECT experiment, COUNT(*) FROM chaos_runs "
                                     "GROUP BY experiment").fetchall())
        assert per_writer == {f"writer-{w}": RUNS_EACH for w in range(WRITERS)}
        assert db.execute("SELECT COUNT(DISTINCT journal_path) FROM chaos_runs").fetchone()[0] \
            == WRITERS * RUNS_EACH
        assert db.execute("SELECT COUNT(*) FROM chaos_failures WHERE category = 'network'"
                          ).fetchone()[0] == WRITERS * RUNS_EACH
        orphans = db.execute("SELECT COUNT(*) FROM chaos_failures f LEFT JOIN chaos_runs r "
                             "ON r.id = f.run_id WHERE r.id IS NULL").fetchone()[0]
        assert orphans == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
