"""Conformance: the npm package toxiproxy-node-client drives the proxy API through every endpoint and toxic."""
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"

STEPS = [
    "version", "create", "create duplicate is 409", "get and missing get is 404", "list",
    "update: disable and re-enable",
    *[f"toxic {t}: add, get, update, duplicate, remove, missing"
      for t in ("latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer",
                "limit_data", "noop")],
    "toxic with default name and stream", "toxic rejected: unknown type, nonsense attributes",
    "populate: create and keep unchanged toxics", "reset: re-enables proxies and removes toxics",
    "delete and missing delete is 404",
]


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def test_node_client_conformance(proxy_server, tcp_server):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: run scripts/install-deps")
    if not (NODE_DIR / "node_modules" / "toxiproxy-node-client").is_dir():
        pytest.fail(f"toxiproxy-node-client is missing: run 'npm ci' in {NODE_DIR}")
    upstream = tcp_server(echo)

    result = subprocess.run([node, "conformance.js", proxy_server.url, upstream.address],
                            cwd=NODE_DIR, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    done = [line[len("step: "):] for line in result.stdout.splitlines() if line.startswith("step: ")]
    assert done == STEPS
    assert result.stdout.rstrip().endswith("conformance: all steps passed")
