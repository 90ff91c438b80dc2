"""Scripted stand-ins for Vigil's monitoring API (FakeVigil) and its gate (FakeGate) on 127.0.0.1, for the
client's unit tests.

FakeVigil: each request takes the next action of the script (201 when the script is empty):
- an int: that status, with a JSON body (201/200 look like Vigil's answers, with its idempotency);
- (status, body, headers): exactly that answer;
- "drop": close the connection without answering;
- "hang": wait until the test releases the server (or 30 s), then drop the connection.
"""

import collections
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeVigil:
    def __init__(self):
        self.script = collections.deque()
        self.requests = []  # {"path", "headers", "body"}, in arrival order
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._accepted = {}  # (kind, key) -> batch id, as Vigil's IngestBatch
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, *actions) -> None:
        self.script.extend(actions)

    def kinds(self) -> list[str]:
        return [r["path"].rstrip("/").rsplit("/", 1)[-1] for r in self.requests]

    def keys(self) -> list[str]:
        return [r["headers"]["Idempotency-Key"] for r in self.requests]

    def rows(self, kind: str) -> list[dict]:
        return [row for r in self.requests if kind in r["body"] for row in r["body"][kind]]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _respond(self, kind, key, rows):
        with self._lock:
            if (kind, key) in self._accepted:
                return 200, {"stored": 0, "rows": rows, "batch": self._accepted[kind, key], "duplicate": True}, {}
            self._accepted[kind, key] = len(self._accepted) + 1
            return 201, {"stored": rows, "rows": rows, "batch": self._accepted[kind, key], "duplicate": False}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = self.path.rstrip("/").rsplit("/", 1)[-1]
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    action = fake.script.popleft() if fake.script else 201
                if action == "hang":
                    fake.release.wait(30)
                if action in ("drop", "hang"):
                    self.close_connection = True
                    return
                if action in (200, 201):
                    status, answer, headers = fake._respond(kind, self.headers["Idempotency-Key"], len(body[kind]))
                    answer["version"] = body.get("version", "1.0")
                elif isinstance(action, int):
                    status, answer, headers = action, {"detail": f"scripted {action}"}, {}
                else:
                    status, answer, headers = action
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep pytest's output clean
                pass

        return Handler


class FakeGate:
    """A stand-in for Vigil's gate (GET /api/v1/gate/{key}/) on 127.0.0.1, for the gate client's tests.

    `decide(key, ...)` sets a model's decision. Each request takes the next action of the script ("ok" when the
    script is empty):
    - "ok": the decision with its strong ETag and `Cache-Control: private, max-age=<max_age>`, or 304 when
      If-None-Match names that ETag (counted in `not_modified`); 404 for a key never decided;
    - an int: that status, with {"detail": ...};
    - "hang": read the request, then answer nothing until the test releases the server (or 30 s), then drop;
    - "trickle": send a 200's headers, then one byte of body every 50 ms until released (or 30 s);
    - "drop": close the connection without answering;
    - "not_json": a 200 with a proxy's HTML page.
    """

    def __init__(self, max_age: int = 0):
        self.max_age = max_age
        self.decisions: dict[str, dict] = {}
        self.script = collections.deque()
        self.requests = []  # {"path", "headers"}, in arrival order
        self.not_modified = 0  # requests answered 304 (If-None-Match named the current ETag)
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def decide(self, key: str, *, allowed: bool = True, reasons=(), revision: int = 1, **fields) -> dict:
        body = {
            "model": key,
            "allowed": allowed,
            "version": "1.0",
            "status": "production",
            "reasons": [{"code": code, "message": f"{code} (scripted)"} for code in reasons],
            "pilot": None,
            "conditions": "",
            "revision": revision,
            "decided_at": "2026-01-05T10:00:00Z",
        } | fields
        self.decisions[key] = body
        return body

    def etag(self, key: str) -> str:
        canonical = json.dumps(self.decisions[key], sort_keys=True, separators=(",", ":")).encode()
        return f'"{hashlib.sha256(canonical).hexdigest()}"'

    def answer(self, *actions) -> None:
        self.script.extend(actions)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # as Vigil behind its web server: Content-Length framed answers

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path  # absolute when it came through a proxy
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers.items())})
                    action = fake.script.popleft() if fake.script else "ok"
                self.close_connection = True
                if action == "hang":
                    fake.release.wait(30)
                    return
                if action == "drop":
                    return
                if action == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        while not fake.release.wait(0.05):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                    except OSError:  # the client shut the connection
                        pass
                    return
                if action == "not_json":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"})
                    return
                if isinstance(action, int):
                    self._send(action, json.dumps({"detail": f"scripted {action}"}).encode(), {})
                    return
                key = path.rstrip("/").rsplit("/", 1)[-1]
                if key not in fake.decisions:
                    self._send(404, b'{"detail": "No Model matches the given query."}', {})
                    return
                etag = fake.etag(key)
                headers = {"ETag": etag, "Cache-Control": f"private, max-age={fake.max_age}"}
                if self.headers.get("If-None-Match") == etag:
                    with fake._lock:
                        fake.not_modified += 1
                    self._send(304, b"", headers)
                    return
                self._send(200, json.dumps(fake.decisions[key]).encode(), headers)

            def _send(self, status, payload, headers):
                self.send_response(status)
                headers = {"Content-Type": "application/json"} | headers
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep pytest's output clean
                pass

        return Handler
