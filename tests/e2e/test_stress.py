"""End-to-end tests of the stress provider: CPU load and memory measured from /proc, fill files
kept inside their folder and removed, workers that die with a killed run, and invalid input."""
import json
import os
import signal
import subprocess
import time

import pytest

TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def stress_experiment(provider, title="stress"):
    return {"title": title, "description": "stress test",
            "method": [{"type": "action", "name": "stress",
                        "provider": {"type": "stress", **provider}}]}


def start_run(aftershock, *args):
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([aftershock.bin, "run", "--no-record", *map(str, args)],
                            cwd=aftershock.cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name: [0] is the state, [1] the parent pid."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def children(pid, name):
    """Pids of the live children of pid whose command name is name."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
            fields = stat_fields(entry)
        except OSError:
            continue
        if comm == name and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def wait_children(proc, name, count, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        found = children(proc.pid, name)
        if len(found) >= count:
            return found
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, f"{count} {name} workers never started"
        time.sleep(0.05)


def cpu_seconds(pid):
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime and stime


def mapping_rss(pid, size):
    """Resident bytes of the mappings of exactly size bytes in pid (the worker's own memory,
    apart from what it shares with aftershock after fork)."""
    rss, current = 0, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if parts[0] == "Size:":
                current = int(parts[1]) * 1024
            elif parts[0] == "Rss:" and current == size:
                rss += int(parts[1]) * 1024
    return rss


def alive(pid):
    try:
        return stat_fields(pid)[0] not in ("Z", "X")
    except OSError:
        return False


def finish(proc):
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def journal_output(tmp_path):
    journal = json.loads((tmp_path / "journal.json").read_text())
    return journal["run"][0]


def failure(journal_path):
    """The exception of the first method activity, which must have failed."""
    record = json.loads(journal_path.read_text())["run"][0]
    assert record["status"] == "failed", record
    return record["exception"][0]


def test_cpu_workers_hold_load(aftershock, tmp_path):
    write(tmp_path / "cpu.json",
          stress_experiment({"duration": 6, "cpu": {"workers": 2, "load": 50}}))
    proc = start_run(aftershock, "cpu.json")
    workers = wait_children(proc, "aftershock-cpu", 2)
    time.sleep(0.5)

    before = {pid: cpu_seconds(pid) for pid in workers}
    start = time.monotonic()
    time.sleep(3)
    shares = {pid: (cpu_seconds(pid) - before[pid]) / (time.monotonic() - start)
              for pid in workers}
    code, _, err = finish(proc)

    assert code == 0, err
    assert len(workers) == 2
    for pid, share in shares.items():
        # 50% of one CPU; the bounds allow for a busy 2-core machine.
        assert 0.15 <= share <= 0.85, f"worker {pid} used {share:.2f} of a CPU"
    assert not any(alive(pid) for pid in workers)
    record = journal_output(tmp_path)
    assert record["status"] == "succeeded"
    assert record["output"]["cpu"] == {"workers": 2, "load": 50.0}
    faults = json.loads((tmp_path / "journal.json").read_text())["faults"]
    assert sorted(f["pid"] for f in faults) == workers
    assert all(f["kind"] == "stress-worker" and f["undone_at"] for f in faults)


def test_memory_worker_holds_rss(aftershock, tmp_path):
    write(tmp_path / "memory.json", stress_experiment({"duration": 4, "memory": "64MiB"}))
    proc = start_run(aftershock, "memory.json")
    [worker] = wait_children(proc, "aftershock-mem", 1)
    deadline = time.monotonic() + 30
    rss = 0
    while time.monotonic() < deadline and rss < 64 * MIB:
        rss = mapping_rss(worker, 64 * MIB)
        time.sleep(0.1)
    code, _, err = finish(proc)

    assert code == 0, err
    assert rss == 64 * MIB, f"the 64 MiB mapping has {rss / MIB:.1f} MiB resident"
    assert not alive(worker)
    assert journal_output(tmp_path)["output"]["memory"]["bytes"] == 64 * MIB


def test_fill_file_size_and_removal(aftershock, tmp_path):
    folder = tmp_path / "disk"
    (folder / "sub").mkdir(parents=True)
    write(tmp_path / "fill.json", stress_experiment(
        {"duration": 3, "fill": {"folder": "disk", "file": "sub/fill.bin", "size": "5MiB"}}))
    proc = start_run(aftershock, "fill.json")
    path = folder / "sub" / "fill.bin"
    deadline = time.monotonic() + 30
    size = 0
    while time.monotonic() < deadline and size < 5 * MIB and proc.poll() is None:
        size = path.stat().st_size if path.exists() else 0
        time.sleep(0.05)
    code, _, err = finish(proc)

    assert code == 0, err
    assert size == 5 * MIB
    assert not path.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["sub"]
    output = journal_output(tmp_path)["output"]["fill"]
    assert output["bytes"] == 5 * MIB
    assert output["path"] == f"{folder.resolve()}/sub/fill.bin"
    assert output["disk_full"] is False
    [fault] = json.loads((tmp_path / "journal.json").read_text())["faults"]
    assert fault["kind"] == "fill"
    assert fault["folder"] == str(folder.resolve())
    assert fault["file"] == "sub/fill.bin"
    assert fault["ino"] > 0
    assert fault["undone_at"] >= fault["applied_at"]


def test_fill_generated_name_is_removed(aftershock, tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    write(tmp_path / "fill.json",
          stress_experiment({"duration": 1, "fill": {"folder": str(folder), "size": 4096}}))

    result = aftershock("run", "--no-record", "fill.json")

    assert result.returncode == 0, result.stderr
    assert list(folder.iterdir()) == []
    path = journal_output(tmp_path)["output"]["fill"]["path"]
    assert path.startswith(f"{folder}/aftershock-fill-")


@pytest.mark.parametrize("file,message", [
    ("../outside.bin", "contains '..'"),
    ("sub/../../outside.bin", "contains '..'"),
    ("/tmp/outside.bin", "is an absolute path"),
])
def test_fill_path_escape_rejected_before_run(aftershock, tmp_path, file, message):
    (tmp_path / "disk" / "sub").mkdir(parents=True)
    write(tmp_path / "fill.json", stress_experiment(
        {"duration": 1, "fill": {"folder": "disk", "file": file, "size": "1MiB"}}))

    result = aftershock("run", "--no-record", "fill.json")

    assert result.returncode == 2, result.stderr
    assert "method[0].provider.fill.file" in result.stderr
    assert message in result.stderr
    assert not (tmp_path / "outside.bin").exists()
    assert not (tmp_path / "journal.json").exists()


def test_fill_through_symlink_rejected(aftershock, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "disk"
    folder.mkdir()
    (folder / "link").symlink_to(outside)
    (folder / "file-link").symlink_to(outside / "target.bin")
    write(tmp_path / "dir-link.json", stress_experiment(
        {"duration": 1, "fill": {"folder": "disk", "file": "link/fill.bin", "size": "1MiB"}}))
    write(tmp_path / "file-link.json", stress_experiment(
        {"duration": 1, "fill": {"folder": "disk", "file": "file-link", "size": "1MiB"}}))

    through_dir = aftershock("run", "--no-record", "--journal-path", "dir.json",
                             "dir-link.json")
    through_file = aftershock("run", "--no-record", "--journal-path", "file.json",
                              "file-link.json")

    # A failed action is recorded in the journal; as in Chaos Toolkit it does not fail the run.
    assert through_dir.returncode == 0, through_dir.stderr
    assert "'link' is a symbolic link or not a folder" in failure(tmp_path / "dir.json")
    assert through_file.returncode == 0, through_file.stderr
    assert "'file-link' already exists" in failure(tmp_path / "file.json")
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "reports" / ".ledger").exists() or \
        list((tmp_path / "reports" / ".ledger").iterdir()) == []


def test_fill_keeps_existing_file(aftershock, tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    (folder / "data.bin").write_text("keep me\n")
    write(tmp_path / "fill.json", stress_experiment(
        {"duration": 1, "fill": {"folder": "disk", "file": "data.bin", "size": "1MiB"}}))

    result = aftershock("run", "--no-record", "fill.json")

    assert result.returncode == 0, result.stderr
    assert "already exists" in failure(tmp_path / "journal.json")
    assert (folder / "data.bin").read_text() == "keep me\n"


def test_workers_die_when_run_is_killed(aftershock, tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    write(tmp_path / "all.json", stress_experiment(
        {"duration": 60, "cpu": {"workers": 2, "load": 20}, "memory": "16MiB",
         "fill": {"folder": "disk", "file": "fill.bin", "size": "1MiB"}}))
    proc = start_run(aftershock, "all.json")
    workers = wait_children(proc, "aftershock-cpu", 2) + wait_children(proc, "aftershock-mem", 1)
    deadline = time.monotonic() + 30
    while not (folder / "fill.bin").exists():
        assert time.monotonic() < deadline, "the fill file was never created"
        time.sleep(0.05)

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    rollback = aftershock("rollback")

    assert left == [], f"workers {left} outlived the run"
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert "removed fill file 'fill.bin'" in rollback.stdout
    assert rollback.stdout.count("stress worker pid") == 3
    assert not (folder / "fill.bin").exists()


def test_sigterm_stops_workers_and_removes_fill(aftershock, tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    write(tmp_path / "all.json", stress_experiment(
        {"duration": 60, "cpu": {"workers": 1, "load": 20},
         "fill": {"folder": "disk", "file": "fill.bin", "size": "1MiB"}}))
    proc = start_run(aftershock, "all.json")
    [worker] = wait_children(proc, "aftershock-cpu", 1)
    deadline = time.monotonic() + 30
    while not (folder / "fill.bin").exists():
        assert time.monotonic() < deadline, "the fill file was never created"
        time.sleep(0.05)

    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc)

    assert code == 143, err
    assert not alive(worker)
    assert list(folder.iterdir()) == []
    assert "stress cut short" in err
    assert not (tmp_path / "reports" / ".ledger").exists() or \
        list((tmp_path / "reports" / ".ledger").iterdir()) == []


@pytest.mark.parametrize("provider,field,message", [
    ({"cpu": {"workers": 1}}, "provider.duration", "required field is missing"),
    ({"duration": 0, "cpu": {}}, "provider.duration", "must be greater than 0"),
    ({"duration": 1}, "provider", "needs at least one of cpu, memory or fill"),
    ({"duration": 1, "cpu": {"workers": 0}}, "provider.cpu.workers", "must be from 1 to 256"),
    ({"duration": 1, "cpu": {"workers": 1.5}}, "provider.cpu.workers", "must be an integer"),
    ({"duration": 1, "cpu": {"load": 150}}, "provider.cpu.load", "must be from 1 to 100"),
    ({"duration": 1, "cpu": {"lod": 50}}, "provider.cpu", "lod"),
    ({"duration": 1, "cpu": 2}, "provider.cpu", "must be a mapping"),
    ({"duration": 1, "memory": "12 parsecs"}, "provider.memory", "invalid size '12 parsecs'"),
    ({"duration": 1, "memory": -5}, "provider.memory", "at least 1 byte"),
    ({"duration": 1, "memory": "1.5B"}, "provider.memory", "must be whole"),
    ({"duration": 1, "fill": {"size": "1MiB"}}, "provider.fill.folder", "required field"),
    ({"duration": 1, "fill": {"folder": "x"}}, "provider.fill.size", "required field"),
    ({"duration": 1, "fill": {"folder": "x", "size": 1, "mode": "fast"}}, "provider.fill",
     "mode"),
    ({"duration": 1, "disk": "1GiB"}, "provider", "disk"),
])
def test_invalid_stress_rejected(aftershock, tmp_path, provider, field, message):
    write(tmp_path / "bad.json", stress_experiment(provider))

    result = aftershock("run", "--no-record", "bad.json")

    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if f"method[0].{field}" in line]
    assert any(message in line for line in lines), result.stderr


def test_memory_larger_than_machine_rejected(aftershock, tmp_path):
    write(tmp_path / "huge.json", stress_experiment({"duration": 1, "memory": "1000TiB"}))

    result = aftershock("run", "--no-record", "huge.json")

    assert result.returncode == 0, result.stderr
    assert "of this machine's memory" in failure(tmp_path / "journal.json")
    assert children(os.getpid(), "aftershock-mem") == []
