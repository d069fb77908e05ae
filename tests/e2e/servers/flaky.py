"""An HTTP service whose behaviour a file controls, for traffic tests.

The file --mode-file is read on every request: "ok" answers 200, "fail"
answers 503, "stall SECONDS" waits that long and then answers 200. Each
request is counted in --count-file when one is given (one line per request).
"""
import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode-file", required=True)
    parser.add_argument("--count-file")
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *unused):
            pass

        def do_GET(self):
            with open(args.mode_file) as f:
                mode = f.read().split()
            if args.count_file:
                with lock, open(args.count_file, "a") as f:
                    f.write("x\n")
            status = 200
            if mode and mode[0] == "fail":
                status = 503
            elif mode and mode[0] == "stall":
                time.sleep(float(mode[1]))
            body = f"{status}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
