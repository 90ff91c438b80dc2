"""A real HTTP receiver for webhook tests: records every POST (headers, body, time) and answers from a script."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """`answers`: the status of each successive POST (the last one repeats); `hang_first`: seconds the first
    POST waits before answering; `hang`: seconds every POST waits (cut short when the receiver stops);
    `body` and `headers`: what it answers besides the status (an internal service's secrets, say)."""

    def __init__(self, answers=(200,), hang_first: float = 0.0, hang: float = 0.0, body=b"ok", headers=None):
        self.answers, self.hang_first, self.hang = list(answers), hang_first, hang
        self.answer_body, self.answer_headers = body, dict(headers or {})
        self.stopping = threading.Event()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    n = len(receiver.requests)
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "at": time.time(), "path": self.path}
                    )
                    code = receiver.answers[min(n, len(receiver.answers) - 1)]
                if n == 0 and receiver.hang_first:
                    time.sleep(receiver.hang_first)
                if receiver.hang:
                    receiver.stopping.wait(receiver.hang)
                self.send_response(code)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)  # quick to stop

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vigil"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, seconds: float = 60) -> list[dict]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.requests)} request(s), not {count}")
