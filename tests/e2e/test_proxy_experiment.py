"""End-to-end tests of experiments that drive toxics: the toxic provider, cleanup, and embedded proxies."""
import json
import signal
import socket
import time

import pytest

from conftest import free_port


def write_experiment(path, doc):
    path.write_text(json.dumps(doc, indent=2))
    return path


def read_journal(tmp_path):
    return json.loads((tmp_path / "journal.json").read_text())


def toxic_action(activity, action, proxy, api=None, **fields):
    provider = {"type": "toxic", "action": action, "proxy": proxy, **fields}
    if api is not None:
        provider["api"] = api
    return {"type": "action", "name": activity, "provider": provider}


def http_probe(name, url, tolerance=200):
    return {"type": "probe", "name": name, "tolerance": tolerance,
            "provider": {"type": "http", "url": url, "timeout": 5}}


def experiment(health_url, method, **extra):
    doc = {"title": "toxics are applied and cleaned up", "description": "proxy experiment test",
           "steady-state-hypothesis": {"title": "healthy",
                                       "probes": [http_probe("healthy", health_url)]},
           "method": method}
    doc.update(extra)
    return doc


def wait_for_file(path, timeout=30):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_toxic_provider_adds_updates_and_cleans_up(aftershock, proxy_server, app, tmp_path):
    port = proxy_server.create("app", f"127.0.0.1:{app.port}")
    via_proxy = f"http://127.0.0.1:{port}/health"
    api = proxy_server.url
    method = [
        toxic_action("slow down", "add", "app", api,
                     toxic={"name": "slow", "type": "latency", "attributes": {"latency": 300}}),
        http_probe("slow request", via_proxy),
        toxic_action("slower", "update", "app", api, name="slow",
                     toxic={"attributes": {"latency": 400}}),
        toxic_action("cut", "add", "app", api, toxic={"type": "limit_data", "stream": "upstream",
                                                      "attributes": {"bytes": 100000}}),
        toxic_action("uncut", "remove", "app", api, name="limit_data_upstream"),
    ]
    write_experiment(tmp_path / "exp.json", experiment(via_proxy, method))

    result = aftershock("run", "exp.json")

    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    records = {r["activity"]["name"]: r for r in journal["run"]}
    assert all(r["status"] == "succeeded" for r in records.values()), records
    assert records["slow down"]["output"]["attributes"] == {"latency": 300, "jitter": 0}
    assert records["slow request"]["duration"] >= 0.3
    assert records["slower"]["output"]["attributes"]["latency"] == 400
    assert records["uncut"]["output"] == {"proxy": "app", "removed": "limit_data_upstream"}
    # The run removed the toxic the experiment left behind; the one it removed itself is gone too.
    assert proxy_server.request("GET", "/proxies/app/toxics")[1] == []
    assert "toxic=slow" in result.stderr
    assert "cannot remove" not in result.stderr


def test_toxics_removed_after_interrupt(aftershock, proxy_server, app, tmp_path):
    port = proxy_server.create("app", f"127.0.0.1:{app.port}")
    started = tmp_path / "started"
    method = [
        toxic_action("freeze", "add", "app", proxy_server.url,
                     toxic={"type": "timeout", "attributes": {"timeout": 0}}),
        {"type": "action", "name": "wait", "provider": {
            "type": "process", "path": "/bin/sh", "arguments": ["-c", f"touch {started}; sleep 60"]}},
    ]
    write_experiment(tmp_path / "exp.json", experiment(f"http://127.0.0.1:{port}/health", method))

    proc = aftershock.start("run", "exp.json")
    wait_for_file(started)
    assert [t["name"] for t in proxy_server.request("GET", "/proxies/app/toxics")[1]] == ["timeout_downstream"]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 128 + signal.SIGINT, err
    assert read_journal(tmp_path)["status"] == "interrupted"
    assert proxy_server.request("GET", "/proxies/app/toxics")[1] == []


def test_failed_toxic_action_is_recorded(aftershock, proxy_server, app, tmp_path):
    port = proxy_server.create("app", f"127.0.0.1:{app.port}")
    method = [
        toxic_action("bad rate", "add", "app", proxy_server.url,
                     toxic={"type": "bandwidth", "attributes": {"rate": 0}}),
        toxic_action("missing", "remove", "app", proxy_server.url, name="nothing"),
        toxic_action("no proxy", "add", "ghost", proxy_server.url, toxic={"type": "noop"}),
    ]
    write_experiment(tmp_path / "exp.json", experiment(f"http://127.0.0.1:{port}/health", method))

    aftershock("run", "exp.json")

    records = {r["activity"]["name"]: r for r in read_journal(tmp_path)["run"]}
    assert records["bad rate"]["status"] == "failed"
    assert "'rate' must be at least 1" in records["bad rate"]["exception"][0]
    assert records["missing"]["status"] == "failed"
    assert "toxic 'nothing' not found on proxy 'app'" in records["missing"]["exception"][0]
    assert "proxy not found" in records["no proxy"]["exception"][0]


def test_embedded_proxy_for_the_run(aftershock, app, tmp_path):
    port = free_port()
    via_proxy = f"http://127.0.0.1:{port}/health"
    method = [
        toxic_action("slow down", "add", "web",
                     toxic={"type": "latency", "attributes": {"latency": 250}}),
        http_probe("slow request", via_proxy),
    ]
    doc = experiment(via_proxy, method,
                     proxies=[{"name": "web", "listen": f"127.0.0.1:{port}",
                               "upstream": f"127.0.0.1:{app.port}"}])
    write_experiment(tmp_path / "exp.json", doc)

    result = aftershock("run", "exp.json")

    assert result.returncode == 0, result.stderr
    journal = read_journal(tmp_path)
    assert journal["steady_states"]["before"]["steady_state_met"] is True
    assert journal["steady_states"]["after"]["steady_state_met"] is True
    records = {r["activity"]["name"]: r for r in journal["run"]}
    assert records["slow down"]["status"] == "succeeded"
    assert records["slow request"]["duration"] >= 0.25
    assert "embedded proxy started" in result.stderr
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_embedded_proxy_port_taken(aftershock, app, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    doc = experiment(f"http://127.0.0.1:{port}/health", [],
                     proxies=[{"name": "web", "listen": f"127.0.0.1:{port}",
                               "upstream": f"127.0.0.1:{app.port}"}])
    doc["method"] = [{"type": "action", "name": "noop", "provider": {
        "type": "process", "path": "/bin/true"}}]
    write_experiment(tmp_path / "exp.json", doc)
    try:
        result = aftershock("run", "exp.json")
    finally:
        taken.close()
    assert result.returncode != 0
    assert f"listen tcp 127.0.0.1:{port}: bind: address already in use" in result.stderr
    journal = read_journal(tmp_path)
    assert journal["status"] == "failed"
    assert journal["run"] == []


@pytest.mark.parametrize("provider,words", [
    ({"type": "toxic", "action": "explode", "proxy": "p"}, "must be add, update or remove"),
    ({"type": "toxic", "action": "add"}, "proxy"),
    ({"type": "toxic", "action": "add", "proxy": "p"}, "required field is missing"),
    ({"type": "toxic", "action": "remove", "proxy": "p"}, "name"),
    ({"type": "toxic", "action": "add", "proxy": "p", "toxic": "latency"}, "must be a mapping"),
])
def test_invalid_toxic_provider_rejected(aftershock, tmp_path, provider, words):
    doc = experiment("http://127.0.0.1:9/health", [{"type": "action", "name": "t", "provider": provider}])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 2
    assert words in result.stderr


def test_invalid_proxies_rejected(aftershock, tmp_path):
    doc = experiment("http://127.0.0.1:9/health", [{"type": "action", "name": "t", "provider": {
        "type": "process", "path": "/bin/true"}}], proxies=[{"name": "web", "listen": "127.0.0.1:0"}])
    write_experiment(tmp_path / "exp.json", doc)
    result = aftershock("run", "exp.json")
    assert result.returncode == 2
    assert "proxies[0].upstream" in result.stderr
