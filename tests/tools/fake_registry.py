#!/usr/bin/env python3
"""A tiny fake OCI registry for exercising dray's registry client (stdlib only).

Repositories (any tag answers with a fixed digest):
  bearer/*  401 with a Bearer challenge; the realm /token gives a token to
            Basic alice:s3cret (or to a refresh_token POST "idtok"),
            refuses everyone else
  basic/*   401 with a Basic challenge; accepts alice:s3cret
  busy/*    503 with Retry-After: 7
  open/*    anonymous
  anything else: 404 MANIFEST_UNKNOWN
Prints "listening PORT" on stdout; ends by itself after --lifetime seconds.
"""
import argparse
import base64
import http.server
import json
import sys
import threading
import urllib.parse

DIGEST = "sha256:" + "1" * 64
TOKEN = "tok-" + "a" * 20
GOOD = "Basic " + base64.b64encode(b"alice:s3cret").decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_registry: " + fmt % args + "\n")

    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def errors(self, status, code, headers=()):
        body = json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode()
        self.reply(status, list(headers) + [("Content-Type", "application/json")], body)

    def token(self, granted):
        if not granted:
            return self.errors(401, "UNAUTHORIZED")
        body = json.dumps({"token": TOKEN, "expires_in": 300}).encode()
        self.reply(200, [("Content-Type", "application/json")], body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/token":
            return self.token(self.headers.get("Authorization") == GOOD)
        return self.manifest()

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if url.path == "/token":
            return self.token(form.get("refresh_token") == ["idtok"])
        self.errors(404, "NOT_FOUND")

    def do_HEAD(self):
        self.manifest()

    def manifest(self):
        parts = urllib.parse.urlparse(self.path).path.split("/")
        # /v2/<repo...>/manifests/<ref>
        if len(parts) < 5 or parts[1] != "v2" or parts[-2] != "manifests":
            return self.errors(404, "NOT_FOUND")
        repo = "/".join(parts[2:-2])
        ok = [("Docker-Content-Digest", DIGEST),
              ("Content-Type", "application/vnd.oci.image.index.v1+json")]
        auth = self.headers.get("Authorization")
        host = self.headers.get("Host")
        if repo.startswith("bearer/"):
            if auth != "Bearer " + TOKEN:
                challenge = ('Bearer realm="http://%s/token",service="fake",'
                             'scope="repository:%s:pull"' % (host, repo))
                return self.errors(401, "UNAUTHORIZED", [("WWW-Authenticate", challenge)])
        elif repo.startswith("basic/"):
            if auth != GOOD:
                return self.errors(401, "UNAUTHORIZED",
                                   [("WWW-Authenticate", 'Basic realm="fake"')])
        elif repo.startswith("busy/"):
            return self.errors(503, "UNAVAILABLE", [("Retry-After", "7")])
        elif not repo.startswith("open/"):
            return self.errors(404, "MANIFEST_UNKNOWN")
        self.reply(200, ok, b"{}" if self.command != "HEAD" else b"")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.verbose = args.verbose
    print("listening %d" % server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
