#!/usr/bin/python3
# http-function.py - an HTTP function for the http transform's tests.
#
# Usage: http-function.py PORT-FILE LOG [CERT KEY]
# Listens on 127.0.0.1 (a free port, written to PORT-FILE once it
# listens; with CERT and KEY, PEM files, it speaks HTTPS) and writes one JSON line per request to LOG: its method, raw
# path, headers, and its body's size and SHA-256 (and the body itself if
# it is small text). The first part of the path says how to answer:
#   /ok/...        200 with a JSON summary of the request
#   /empty/...     204;   /blank/...  200 with no body
#   /missing/...   404 with a 2 KiB body
#   /busy/...      429 with Retry-After: 3, then 200 (per ce-id)
#   /flaky/...     500 twice, then 200 (per ce-id)
#   /hang/...      nothing for 60 s
#   /big/...       200 with a 2 MiB body
#   /moved/...     302 to /ok/...;  /tls/... 302 to https://...
#   /fast          200 with "ok", nothing logged (benchmarks)
import hashlib
import http.server
import json
import os
import ssl
import sys
import threading
import time

port_file, log_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()
seen = {}

class Function(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        if code != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 204:
            self.wfile.write(body)

    def read_body(self):
        left = int(self.headers.get("Content-Length", "0"))
        digest, size, start = hashlib.sha256(), 0, b""
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            if size < 65536:
                start += chunk[: 65536 - size]
            size += len(chunk)
            left -= len(chunk)
        return size, digest.hexdigest(), start

    def do_POST(self):
        if self.path == "/fast":
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            return self.answer(200, b"ok")
        size, sha, start = self.read_body()
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "bytes": size,
            "sha256": sha,
            "t": time.time(),
        }
        if size <= 65536:
            record["body"] = start.decode("utf-8", "replace")
        ce_id = self.headers.get("ce-id", "")
        if not ce_id and record.get("body", "").startswith("{"):
            ce_id = json.loads(record["body"]).get("id", "")
        kind = self.path.split("/")[1]
        with lock:
            tries = seen[(kind, ce_id)] = seen.get((kind, ce_id), 0) + 1
            with open(log_path, "a") as log:
                log.write(json.dumps(record) + "\n")
        rest = self.path[len(kind) + 1 :]
        summary = json.dumps({"bytes": size, "sha256": sha,
                              "path": self.path}).encode() + b"\n"
        if kind == "ok" or (kind == "busy" and tries > 1) or (
                kind == "flaky" and tries > 2):
            self.answer(200, summary, [("Content-Type", "application/json")])
        elif kind == "empty":
            self.answer(204)
        elif kind == "blank":
            self.answer(200)
        elif kind == "missing":
            self.answer(404, b"no such function " + b"x" * 2048)
        elif kind == "busy":
            self.answer(429, b"slow down", [("Retry-After", "3")])
        elif kind == "flaky":
            self.answer(500, b"flaky try %d" % tries)
        elif kind == "hang":
            time.sleep(60)
        elif kind == "big":
            self.answer(200, b"y" * (2 << 20))
        elif kind == "moved":
            self.answer(302, b"", [("Location", "/ok" + rest)])
        elif kind == "tls":
            self.answer(302, b"", [("Location", "https://127.0.0.1/ok" + rest)])
        else:
            self.answer(400, b"unknown kind")

    do_PUT = do_POST

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Function)
server.daemon_threads = True
if len(sys.argv) > 4:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))

os.rename(port_file + ".tmp", port_file)
server.serve_forever()
