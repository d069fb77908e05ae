"""The traffic provider and run-wide traffic against real servers on loopback."""
import json
import subprocess
import sys

import pytest

from conftest import SERVERS, free_port, stop_process, wait_for_port


class FlakyServer:
    """tests/e2e/servers/flaky.py: returns 200 or 503, or stalls, as its mode file sets."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.mode = tmp_path / "flaky-mode"
        self.mode.write_text("ok\n")
        self.count = tmp_path / "flaky-count"
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVERS / "flaky.py"), "--port", str(self.port),
             "--mode-file", str(self.mode), "--count-file", str(self.count)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}/"

    def requests(self):
        return len(self.count.read_text().splitlines()) if self.count.exists() else 0

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def flaky(tmp_path):
    server = FlakyServer(tmp_path)
    yield server
    server.stop()


def run_experiment(aftershock, tmp_path, experiment, *extra):
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    result = aftershock("run", "--no-record", "--ledger-dir", tmp_path / "ledger",
                        "--journal-path", tmp_path / "journal.json", *extra, path)
    journal = None
    if (tmp_path / "journal.json").exists():
        journal = json.loads((tmp_path / "journal.json").read_text())
    return result, journal


def traffic_activity(url, **fields):
    return {"type": "action", "name": "load",
            "provider": {"type": "traffic", "url": url, **fields}}


def test_fixed_rate_for_a_duration_against_nginx(aftershock, tmp_path, nginx):
    experiment = {"title": "steady load", "description": "d",
                  "method": [traffic_activity(nginx.url + "/index.html", rate=50, duration=3,
                                              timeout=5)]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    assert result.returncode == 0, result.stderr
    out = journal["run"][0]["output"]
    assert out["sent"] == 150
    assert out["succeeded"] == 150
    assert sum(out["failed"].values()) == 0
    assert [s["second"] for s in out["timeline"]] == [0, 1, 2]
    assert [s["sent"] for s in out["timeline"]] == [50, 50, 50]
    lat = out["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    log = (nginx.root / "logs" / "access.log").read_text().splitlines()
    assert len([line for line in log if "GET /index.html" in line]) == 150


def test_request_method_headers_body_and_expected_status(aftershock, tmp_path, app):
    experiment = {"title": "posts", "description": "d",
                  "method": [traffic_activity(app.url + "/submit", rate=20, duration=1,
                                              method="POST", headers={"X-Run": "traffic"},
                                              body={"order": 7}, expected_status=[201])]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    out = journal["run"][0]["output"]
    # app.py replies 200 to a POST, which this experiment does not expect.
    assert out["failed"]["bad_status"] == 20
    assert out["succeeded"] == 0
    posts = [line for line in app.requests() if line.startswith("POST /submit")]
    assert len(posts) == 20
    assert "X-Run=traffic" in posts[0]
    assert posts[0].endswith(' {"order":7}')


def test_stalled_server_shows_latency_not_a_lower_rate(aftershock, tmp_path, flaky):
    """Open model: a stall does not slow the sender; it shows up as latency."""
    flaky.mode.write_text("stall 0.6\n")
    experiment = {"title": "stall", "description": "d",
                  "method": [traffic_activity(flaky.url, rate=20, duration=3, timeout=10,
                                              connections=100)]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    out = journal["run"][0]["output"]
    assert out["sent"] == 60
    assert out["succeeded"] == 60
    assert flaky.requests() == 60
    assert out["latency_ms"]["p50"] >= 600
    assert out["latency_ms"]["max"] < 10000


def test_too_few_connections_count_from_the_intended_time(aftershock, tmp_path, flaky):
    """With one connection and 0.3 s per response, later requests wait: latency grows, and
    the ones that wait longer than the timeout fail as timeouts."""
    flaky.mode.write_text("stall 0.3\n")
    experiment = {"title": "queue", "description": "d",
                  "method": [traffic_activity(flaky.url, rate=10, duration=2, timeout=1,
                                              connections=1)]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    out = journal["run"][0]["output"]
    assert out["sent"] == 20
    assert out["failed"]["timeout"] >= 5
    assert out["succeeded"] + out["failed"]["timeout"] == 20
    assert out["latency_ms"]["p90"] >= 900


def test_tcp_connects_and_refused_connections(aftershock, tmp_path, nginx):
    closed = free_port()
    experiment = {"title": "tcp", "description": "d",
                  "method": [traffic_activity(f"tcp://127.0.0.1:{nginx.port}", rate=30,
                                              duration=1),
                             dict(traffic_activity(f"tcp://127.0.0.1:{closed}", rate=30,
                                                   duration=1), name="closed")]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    up, down = journal["run"][0]["output"], journal["run"][1]["output"]
    assert up["kind"] == "tcp"
    assert up["succeeded"] == 30
    assert down["succeeded"] == 0
    assert down["failed"]["refused"] == 30
    assert down["errors"]["refused"]


def test_background_traffic_ends_with_the_method(aftershock, tmp_path, nginx):
    experiment = {"title": "background", "description": "d",
                  "method": [dict(traffic_activity(nginx.url + "/", rate=20), background=True),
                             {"type": "probe", "name": "wait",
                              "provider": {"type": "process", "path": "sleep",
                                           "arguments": "2"}}]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    assert result.returncode == 0, result.stderr
    out = next(r for r in journal["run"] if r["activity"]["name"] == "load")["output"]
    # 20 per second while `sleep 2` runs; the bound allows a slow process start.
    assert 30 <= out["sent"] <= 100
    assert out["failed"] == {"timeout": 0, "refused": 0, "reset": 0, "bad_status": 0,
                             "other": 0}


def test_run_wide_traffic_marks_phases(aftershock, tmp_path, flaky):
    experiment = {
        "title": "phases", "description": "d",
        "traffic": {"url": flaky.url, "rate": 20, "timeout": 5, "tail": 2},
        "method": [{"type": "action", "name": "break",
                    "provider": {"type": "process", "path": "sh",
                                 "arguments": ["-c", f"echo fail > {flaky.mode}; sleep 2; "
                                               f"echo ok > {flaky.mode}"]},
                    "pauses": {"before": 2}}],
    }
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    assert result.returncode == 0, result.stderr
    traffic = journal["traffic"]
    assert [f["name"] for f in traffic["faults"]] == ["break"]
    phases = [s["phase"] for s in traffic["timeline"]]
    assert phases[0] == "before"
    assert phases[-1] == "after"
    assert "during" in phases
    during = [s for s in traffic["timeline"] if s["phase"] == "during"]
    before = [s for s in traffic["timeline"] if s["phase"] == "before"]
    after = [s for s in traffic["timeline"] if s["phase"] == "after"]
    assert all(s["faults"] == ["break"] for s in during)
    assert sum(s["failed"]["bad_status"] for s in during) >= 20
    assert all(s["failed"]["bad_status"] == 0 for s in before + after)
    assert len(after) >= 1


@pytest.mark.parametrize("traffic, message", [
    ({"rate": 10}, "needs 'url'"),
    ({"url": "ftp://127.0.0.1/", "rate": 10}, "must start with http://"),
    ({"url": "tcp://127.0.0.1", "rate": 10}, "tcp://HOST:PORT"),
    ({"url": "http://127.0.0.1:1/"}, "needs 'rate'"),
    ({"url": "http://127.0.0.1:1/", "rate": 0}, "'rate' is 0"),
    ({"url": "http://127.0.0.1:1/", "rate": 5, "connections": 0}, "'connections'"),
    ({"url": "http://127.0.0.1:1/", "rate": 5, "expected_status": 999}, "999"),
    ({"url": "http://127.0.0.1:1/", "rate": 5, "headers": {"A": 1}}, "header 'A'"),
    ({"url": "http://127.0.0.1:1/", "rate": 5, "raet": 5}, "raet"),
])
def test_invalid_run_wide_traffic_is_refused(aftershock, tmp_path, traffic, message):
    experiment = {"title": "bad", "description": "d", "traffic": traffic,
                  "method": [{"type": "probe", "name": "p",
                              "provider": {"type": "process", "path": "true"}}]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    assert result.returncode == 2
    assert message in result.stderr
    assert journal is None


def test_invalid_traffic_provider_is_refused(aftershock, tmp_path):
    experiment = {"title": "bad", "description": "d",
                  "method": [traffic_activity("http://127.0.0.1:1/", rate=-1, duration=1)]}
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    assert result.returncode == 2
    assert "'rate' is -1" in result.stderr


def test_https_traffic_through_libcurl(aftershock, tmp_path):
    """HTTPS goes through libcurl: against nginx with a self-signed certificate, verify_tls
    false succeeds and the default (verify) fails every request."""
    root = tmp_path / "tls"
    (root / "html").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "html" / "index.html").write_text("secure\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", root / "key.pem", "-out",
                    root / "cert.pem"], check=True, capture_output=True, timeout=60)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
error_log {root}/logs/error.log;
pid {root}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/b; proxy_temp_path {root}/p; fastcgi_temp_path {root}/f;
    uwsgi_temp_path {root}/u; scgi_temp_path {root}/s;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {root}/cert.pem;
        ssl_certificate_key {root}/key.pem;
        root {root}/html;
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", str(root), "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        url = f"https://127.0.0.1:{port}/index.html"
        experiment = {"title": "tls", "description": "d",
                      "method": [traffic_activity(url, rate=20, duration=1, verify_tls=False),
                                 dict(traffic_activity(url, rate=20, duration=1),
                                      name="verified")]}
        result, journal = run_experiment(aftershock, tmp_path, experiment)
        insecure, verified = journal["run"][0]["output"], journal["run"][1]["output"]
        assert insecure["succeeded"] == 20
        # Each failed handshake is a new connection; a slow (sanitizer) build may time out.
        assert verified["succeeded"] == 0
        assert verified["failed"]["other"] >= 1
        assert verified["failed"]["other"] + verified["failed"]["timeout"] == 20
        assert "certificate" in verified["errors"]["other"].lower()
    finally:
        stop_process(proc)


def test_run_wide_traffic_flows_before_the_steady_state(aftershock, tmp_path, flaky):
    experiment = {
        "title": "order", "description": "d",
        "traffic": {"url": flaky.url, "rate": 50, "timeout": 5},
        "steady-state-hypothesis": {
            "title": "up", "probes": [{"type": "probe", "name": "look",
                                       "provider": {"type": "process", "path": "true"},
                                       "tolerance": 0}]},
        "method": [{"type": "action", "name": "pause",
                    "provider": {"type": "process", "path": "true"},
                    "pauses": {"before": 1}}],
    }
    result, journal = run_experiment(aftershock, tmp_path, experiment)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()

    def first(text):
        return next(i for i, line in enumerate(lines) if text in line)

    assert first("traffic: start") < first("steady state before the method")
    assert first("traffic: start") < first("runner: method start")
    # The hypothesis probe started after the traffic did.
    traffic = journal["traffic"]
    probe = journal["steady_states"]["before"]["probes"][0]
    assert probe["start"] > traffic["start"]
    assert traffic["timeline"][0]["sent"] > 0
