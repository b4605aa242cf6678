#!/usr/bin/env python3
"""Tiny HTTP server for the download test: serves one file at /jsc.h5 on 127.0.0.1,
honours Range requests (206), and logs each request's Range header.

  http_range_server.py FILE PORTFILE LOG [--drop-first N] [--no-range]

--drop-first N  the first request is cut off after N bytes of the body (a dropped
                connection; the announced length stays the full one)
--no-range      ignore Range headers and always send the whole file (200)
Hostile paths: /endless (a body that never ends, no length announced), /loop (a
redirect to itself, for ever), /500 (a server error), /trickle (2 bytes a second),
/huge (announces 1 TB). Any other path gets 404. The chosen port is written to PORTFILE.
"""
import http.server
import os
import re
import sys
import time


def main():
    path, portfile, log = sys.argv[1:4]
    drop_first = None
    no_range = "--no-range" in sys.argv
    if "--drop-first" in sys.argv:
        drop_first = int(sys.argv[sys.argv.index("--drop-first") + 1])
    data = open(path, "rb").read()
    state = {"requests": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            state["requests"] += 1
            rng = self.headers.get("Range")
            with open(log, "a") as f:
                f.write(f"GET {self.path} range={rng}\n")
            if self.path == "/endless":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                self.close_connection = True
                chunk = b"\0" * 65536
                try:
                    while True:
                        self.wfile.write(chunk)
                except OSError:
                    return
            if self.path == "/huge":
                self.send_response(200)
                self.send_header("Content-Length", str(1 << 40))
                self.end_headers()
                self.close_connection = True
                return
            if self.path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/500":
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(100000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    pass
                self.close_connection = True
                return
            if self.path != "/jsc.h5":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = 0
            m = re.fullmatch(r"bytes=(\d+)-", rng or "")
            if m and not no_range:
                start = int(m.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if drop_first is not None and state["requests"] == 1:
                self.wfile.write(body[:drop_first])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    class QuietServer(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # clients that hang up early are part of the test

    server = QuietServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
