"""A stand-in for the GitHub REST API on 127.0.0.1 that records every request and responds from
a table the test fills, for `aftershock ci summary --comment` and `--issue-after`."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorded:
    def __init__(self, method, path, headers, body, at):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.at = at

    def __repr__(self):
        return f"{self.method} {self.path}"


class FakeGitHub:
    """Responses come from routes: (method, path) -> list of (status, headers, body); the last
    response of a list repeats. Unrouted requests get 599 so a test detects them."""

    def __init__(self):
        self.requests = []
        self.routes = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with fake.lock:
                    fake.requests.append(Recorded(self.command, self.path,
                                                  {k.lower(): v for k, v in self.headers.items()},
                                                  body, time.monotonic()))
                    answers = fake.routes.get((self.command, self.path))
                    if answers:
                        answer = answers.pop(0) if len(answers) > 1 else answers[0]
                    else:
                        answer = (599, {}, {"message": "no route in the test"})
                status, headers, payload = answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method, path, *answers):
        self.routes[(method, path)] = list(answers)

    def calls(self):
        with self.lock:
            return [(r.method, r.path) for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
