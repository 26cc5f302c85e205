#!/usr/bin/env python3
"""faultproxy — a fault-injecting TCP proxy for HTTP/1.1 (Python 3 stdlib only).

Sits on 127.0.0.1 in front of a registry and follows request boundaries in
the client-to-server direction (Content-Length and chunked bodies) so that it
can, per its flags:

  --stall-after N     stop forwarding a request body after N bytes, without
                      reading further from the client (TCP back-pressure: the
                      sender sees no progress); for --stall-count requests
                      whose request line matches --stall-match
  --reset-first N     reset (RST) the first N connections when their first
                      request arrives
  --hang-fraction F   a connection hangs for good (nothing forwarded, nothing
                      answered, nothing read) when its first request arrives,
                      with probability F
  --reset-fraction F  a connection is reset when its first request arrives,
                      with probability F (draws from --seed)
  --reset-match RE    reset the connection of --reset-count requests whose
                      head (request line and headers) matches RE (say
                      "^PATCH " or "Content-Range: 0-"), after the first --reset-skip such
                      requests, once --reset-after bytes of their body were
                      forwarded (0: before the request is forwarded)
  --status-first N    answer the first N requests matching --status-match with
                      --status (503) and Retry-After: --retry-after, then close
  --rate BYTES        forward client-to-server bytes at most BYTES a second,
                      all connections together (an uplink)
  --overload K        request bodies (uploads) beyond K at once get no bytes
                      until fewer than K are under way (an overloaded uplink
                      or registry: later uploads hang at "Waiting")
  --overload-refuse   with --overload: an upload beyond K is answered --status
                      (503) with Retry-After --retry-after at once instead,
                      as a registry or a proxy in front of it with a limit on
                      uploads at once does (nginx limit_conn, a gateway)
  --auth-writes U:P   a write (POST, PUT, PATCH, DELETE) without Basic
                      credentials U:P is answered 401 with a Basic challenge,
                      reads pass (nginx's auth on writes in front of a
                      registry with anonymous pull)
  --lifetime S        exit after S seconds whatever happens (always set)

Prints "listening PORT" on stdout once ready. With --log FILE, appends one
JSON object per event ("connect", "reset", "status", "stall", "request", and
"body" with the bytes of each request body forwarded: what reached the
server).
"""
import argparse
import base64
import json
import random
import re
import socket
import struct
import sys
import threading
import time

LOCK = threading.Lock()
STATE = {"connections": 0, "stalls": 0, "statuses": 0, "resets": 0, "reset_matches": 0}
UPLOADS = threading.Condition(LOCK)
ACTIVE = []          # uploads under way, oldest first (--overload)


class Link:
    """A token bucket shared by every connection (--rate)."""

    def __init__(self, rate):
        self.rate = rate
        self.lock = threading.Lock()
        self.next_free = time.monotonic()
        self.second, self.second_bytes = None, 0

    def send(self, n):
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_free)
            self.next_free = start + n / self.rate
            wait = self.next_free - now
            # Bytes granted per wall-clock second, logged as each second
            # ends ("uplink" events): how busy the link was, and when.
            sec = int(time.time() + wait)
            if sec != self.second:
                if self.second is not None:
                    log("uplink", second=self.second, bytes=self.second_bytes)
                self.second, self.second_bytes = sec, 0
            self.second_bytes += n
        if wait > 0:
            time.sleep(wait)


LINK = Link(0)
RNG = None
ARGS = None
LOGF = None


def log(event, **kw):
    if LOGF is None:
        return
    kw["event"] = event
    kw["time"] = round(time.time(), 3)
    with LOCK:
        LOGF.write(json.dumps(kw) + "\n")
        LOGF.flush()


def take(counter, limit):
    """Atomically use one of LIMIT occurrences of COUNTER; True if granted."""
    with LOCK:
        if STATE[counter] < limit:
            STATE[counter] += 1
            return True
    return False


def chance(fraction):
    """True with probability FRACTION (one shared, seeded source)."""
    if not fraction:
        return False
    with LOCK:
        return RNG.random() < fraction


def close(*socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    close(sock)


def pump(src, dst):
    """Server-to-client: copy until either side closes."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class Conn:
    def __init__(self, client, number):
        self.client = client
        self.number = number
        self.upstream = None
        self.buf = b""

    def recv(self):
        data = self.client.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def read_line(self):
        while b"\r\n" not in self.buf:
            self.recv()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def forward(self, data):
        # In pieces, so that a slow link interleaves the connections.
        for i in range(0, len(data), 16384):
            piece = data[i:i + 16384]
            LINK.send(len(piece))
            self.upstream.sendall(piece)

    def stall(self, request_line):
        log("stall", conn=self.number, request=request_line)
        deadline = time.time() + ARGS.stall_hold
        while time.time() < deadline:
            time.sleep(0.5)  # read nothing: the sender's window fills up
        raise EOFError

    def hang(self, request_line):
        log("hang", conn=self.number, request=request_line)
        while True:
            time.sleep(1)  # read nothing, answer nothing, until --lifetime

    def cut(self, request_line, sent):
        log("cut", conn=self.number, request=request_line, bytes=sent)
        reset(self.client)
        close(self.upstream)
        raise EOFError

    def body(self, length, stall_at, request_line, reset_at=None):
        """Forward LENGTH body bytes (None: chunked); stall at STALL_AT bytes,
        reset both sides at RESET_AT."""
        me = object()
        if ARGS.overload:
            with UPLOADS:
                ACTIVE.append(me)
        try:
            self._body(length, stall_at, request_line, me, reset_at)
        finally:
            if ARGS.overload:
                with UPLOADS:
                    ACTIVE.remove(me)
                    UPLOADS.notify_all()

    def _body(self, length, stall_at, request_line, me, reset_at):
        sent = 0

        def send(data):
            nonlocal sent
            if ARGS.overload:
                # Beyond the first K uploads: no bytes until some end.
                with UPLOADS:
                    while ACTIVE.index(me) >= ARGS.overload:
                        UPLOADS.wait(1.0)
            if stall_at is not None and sent + len(data) >= stall_at:
                self.forward(data[:max(0, stall_at - sent)])
                self.stall(request_line)
            if reset_at is not None and sent + len(data) >= reset_at:
                self.forward(data[:max(0, reset_at - sent)])
                self.cut(request_line, reset_at)
            self.forward(data)
            sent += len(data)

        try:
            self._pump_body(length, send)
            if stall_at is not None and length is None:
                with LOCK:
                    STATE["stalls"] -= 1  # a chunked body ended before STALL_AT: give it back
        finally:
            log("body", conn=self.number, request=request_line, bytes=sent)

    def _pump_body(self, length, send):
        if length is not None:
            left = length
            while left:
                if not self.buf:
                    self.recv()
                chunk, self.buf = self.buf[:left], self.buf[left:]
                send(chunk)
                left -= len(chunk)
            return
        while True:  # chunked
            line = self.read_line()
            send(line + b"\r\n")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers up to the empty line
                    t = self.read_line()
                    send(t + b"\r\n")
                    if not t:
                        return
            left = size + 2  # data and its CRLF
            while left:
                if not self.buf:
                    self.recv()
                chunk, self.buf = self.buf[:left], self.buf[left:]
                send(chunk)
                left -= len(chunk)

    def answer_status(self, request_line):
        """Answer --status with Retry-After and close, the request unread."""
        log("status", conn=self.number, request=request_line, status=ARGS.status)
        resp = ("HTTP/1.1 %d Fault Injected\r\nRetry-After: %d\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n"
                "Connection: close\r\n\r\n")
        body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS"
                                       if ARGS.status == 429 else "UNAVAILABLE",
                                       "message": "injected by faultproxy"}]})
        self.client.sendall((resp % (ARGS.status, ARGS.retry_after, len(body))
                             + body).encode())
        self.client.shutdown(socket.SHUT_WR)
        time.sleep(0.2)

    def answer_unauthorized(self, request_line):
        """Answer 401 with a Basic challenge and close, the request unread."""
        log("unauthorized", conn=self.number, request=request_line)
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                       "message": "authentication required"}]})
        self.client.sendall((
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"writes\"\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n%s" % (len(body), body)).encode())
        self.client.shutdown(socket.SHUT_WR)
        time.sleep(0.2)

    def connect_upstream(self):
        host, port = ARGS.target.rsplit(":", 1)
        self.upstream = socket.create_connection((host, int(port)), timeout=10)
        self.upstream.settimeout(None)
        threading.Thread(target=pump, args=(self.upstream, self.client),
                         daemon=True).start()

    def run(self):
        first = True
        try:
            self.recv()
            if not self.buf[:1].isalpha():
                # Not HTTP (a TLS ClientHello from a client probing https
                # first): pass it through untouched, as the real server sees it.
                log("raw", conn=self.number)
                self.connect_upstream()
                self.forward(self.buf)
                pump(self.client, self.upstream)
                return
            while True:
                while b"\r\n\r\n" not in self.buf:
                    self.recv()
                    if len(self.buf) > 1 << 20:
                        raise EOFError
                head, self.buf = self.buf.split(b"\r\n\r\n", 1)
                lines = head.split(b"\r\n")
                request_line = lines[0].decode("latin-1")
                headers = {}
                for h in lines[1:]:
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                log("request", conn=self.number, request=request_line,
                    length=headers.get("content-length"),
                    encoding=headers.get("transfer-encoding"))

                if first and self.number <= ARGS.reset_first:
                    log("reset", conn=self.number, request=request_line)
                    reset(self.client)
                    return
                if first and chance(ARGS.hang_fraction):
                    self.hang(request_line)
                if first and chance(ARGS.reset_fraction):
                    log("reset", conn=self.number, request=request_line)
                    reset(self.client)
                    return
                first = False
                reset_at = None
                if (ARGS.reset_match
                        and re.search(ARGS.reset_match, head.decode("latin-1"), re.M | re.I)
                        and not take("reset_matches", ARGS.reset_skip)
                        and take("resets", ARGS.reset_count)):
                    reset_at = ARGS.reset_after
                    if reset_at == 0:
                        log("cut", conn=self.number, request=request_line, bytes=0)
                        reset(self.client)
                        return
                if (ARGS.auth_writes
                        and request_line.split(" ", 1)[0] in ("POST", "PUT", "PATCH", "DELETE")
                        and headers.get("authorization") != "Basic " + base64.b64encode(
                            ARGS.auth_writes.encode()).decode()):
                    self.answer_unauthorized(request_line)
                    return
                if (re.search(ARGS.status_match, request_line)
                        and take("statuses", ARGS.status_first)):
                    self.answer_status(request_line)
                    return
                chunked = "chunked" in headers.get("transfer-encoding", "").lower()
                length = int(headers.get("content-length") or 0)
                if ARGS.overload_refuse and (chunked or length > 0):
                    with UPLOADS:
                        refuse = len(ACTIVE) >= ARGS.overload
                    if refuse:
                        self.answer_status(request_line)
                        return

                if self.upstream is None:
                    self.connect_upstream()
                self.forward(head + b"\r\n\r\n")

                stall_at = None
                if (ARGS.stall_after is not None and re.search(ARGS.stall_match, request_line)
                        and take("stalls", ARGS.stall_count)):
                    stall_at = ARGS.stall_after
                if chunked:
                    self.body(None, stall_at, request_line)
                elif length > 0:
                    n = length
                    if stall_at is not None and stall_at >= n:
                        with LOCK:
                            STATE["stalls"] -= 1  # too small to stall: give it back
                        stall_at = None
                    self.body(n, stall_at, request_line, reset_at)
                elif stall_at is not None:
                    with LOCK:
                        STATE["stalls"] -= 1
        except (EOFError, OSError, ValueError):
            pass
        finally:
            close(self.client)
            if self.upstream is not None:
                close(self.upstream)


def main():
    global ARGS, LOGF, RNG
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="HOST:PORT of the real server")
    ap.add_argument("--listen-port", type=int, default=0, help="0: any free port")
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--stall-after", type=int, default=None)
    ap.add_argument("--stall-count", type=int, default=1)
    ap.add_argument("--stall-match", default=r"^(PATCH|PUT|POST) ")
    ap.add_argument("--stall-hold", type=float, default=None,
                    help="seconds a stalled connection is held (default: lifetime)")
    ap.add_argument("--reset-first", type=int, default=0)
    ap.add_argument("--hang-fraction", type=float, default=0)
    ap.add_argument("--reset-fraction", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reset-match", default=None)
    ap.add_argument("--reset-count", type=int, default=1)
    ap.add_argument("--reset-after", type=int, default=0)
    ap.add_argument("--reset-skip", type=int, default=0)
    ap.add_argument("--status-first", type=int, default=0)
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--status-match", default=r".")
    ap.add_argument("--rate", type=float, default=0, help="bytes/s, all connections")
    ap.add_argument("--overload", type=int, default=0, help="uploads at once before stalling")
    ap.add_argument("--overload-refuse", action="store_true",
                    help="beyond --overload uploads at once: answer --status at once")
    ap.add_argument("--auth-writes", default=None, help="USER:PASSWORD asked of writes")
    ap.add_argument("--log", default=None)
    ARGS = ap.parse_args()
    LINK.rate = ARGS.rate
    RNG = random.Random(ARGS.seed)
    if ARGS.stall_hold is None:
        ARGS.stall_hold = ARGS.lifetime
    if ARGS.log:
        LOGF = open(ARGS.log, "a")

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", ARGS.listen_port))
    srv.listen(128)
    srv.settimeout(0.5)
    print("listening %d" % srv.getsockname()[1], flush=True)
    end = time.time() + ARGS.lifetime
    while time.time() < end:
        try:
            client, _ = srv.accept()
        except socket.timeout:
            continue
        with LOCK:
            STATE["connections"] += 1
            number = STATE["connections"]
        log("connect", conn=number)
        threading.Thread(target=Conn(client, number).run, daemon=True).start()
    srv.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
