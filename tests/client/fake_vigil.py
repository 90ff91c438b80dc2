"""A scripted stand-in for Vigil's monitoring API on 127.0.0.1, for the client's unit tests.

Each request takes the next action of the script (201 when the script is empty):
- an int: that status, with a JSON body (201/200 look like Vigil's answers, with its idempotency);
- (status, body, headers): exactly that answer;
- "drop": close the connection without answering;
- "hang": wait until the test releases the server (or 30 s), then drop the connection.
"""

import collections
import json
import threading
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
