"""A small HTTP service for end-to-end tests.

GET /health returns the status code stored in --status-file (read again on
every request), and GET /json returns a fixed JSON document. Every request is
appended to --log as "METHOD PATH HEADERS BODY", so tests can assert what arrived.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--status-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *unused):
            pass

        def record(self, body=b""):
            headers = ";".join(f"{k}={v}" for k, v in self.headers.items())
            with open(args.log, "a") as f:
                f.write(f"{self.command} {self.path} {headers} {body.decode(errors='replace')}\n")

        def reply(self, status, body, content_type="text/plain"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.record()
            if self.path.startswith("/json"):
                self.reply(200, json.dumps({"service": "app", "replicas": [
                    {"name": "a", "up": True}, {"name": "b", "up": True}]}),
                    "application/json")
                return
            with open(args.status_file) as f:
                status = int(f.read().strip() or "200")
            self.reply(status, f"status {status}\n")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            self.record(body)
            self.reply(200, body.decode(errors="replace"), "application/json")

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
