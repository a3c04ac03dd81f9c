#!/usr/bin/env python3
"""A webhook receiver to try herald with (the README's five-minute tour): listens on
127.0.0.1:PORT, prints each request herald sends, and answers STATUS (200: the
delivery is acknowledged; 503: it fails, and herald retries). Standard library only.

Usage: python3 tools/try_receiver.py PORT [--status STATUS]
"""
import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--status", type=int, default=200)
    options = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            print("%s %s  webhook-id=%s attempt=%s -> %d\n  %s" % (
                self.command, self.path, self.headers.get("webhook-id"),
                self.headers.get("X-Herald-Attempt"), options.status,
                body.decode("utf-8", "replace")), flush=True)
            answer = b"ok\n" if options.status < 300 else b"receiver is down\n"
            self.send_response(options.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass  # the line above says it all

    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    print("listening on http://127.0.0.1:%d/ (answering %d)" % (options.port, options.status),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
