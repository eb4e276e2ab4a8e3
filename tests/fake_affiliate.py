"""A fake affiliate (提携先) on a free loopback port: verifies the partner-sync signature, records
event ids, and answers as a test programs it (status codes, slowness)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server(ThreadingHTTPServer):
    # Two drains send up to 16 requests at once: the default backlog of 5 would refuse some
    # connections on a busy machine, which the sender rightly retries (a second attempt).
    request_queue_size = 64


class FakeAffiliate:
    def __init__(self, secret: str):
        self.secret = secret
        self.responses: list[int] = []  # consumed one per request; then ``default``
        self.default = 200
        self.delay = 0.0
        self.received: list[dict] = []
        self.arrived = threading.Event()  # set when the first request comes in (before any delay)
        self.bad_signatures = 0
        self.applied: Counter = Counter()  # event id -> times answered 200
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", free_port()), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def event_ids(self) -> list[str]:
        return [doc["event_id"] for doc in self.received]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                timestamp = self.headers.get("X-Consentoffice-Timestamp", "")
                signature = self.headers.get("X-Consentoffice-Signature", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        fake.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                fake.arrived.set()
                if fake.delay:
                    time.sleep(fake.delay)
                with fake.lock:
                    if self.path != "/member-changes" or not hmac.compare_digest(expected, signature):
                        fake.bad_signatures += 1
                        status = 401
                    else:
                        document = json.loads(body)
                        fake.received.append(document)
                        status = fake.responses.pop(0) if fake.responses else fake.default
                        if status == 200 and fake.applied[document["event_id"]]:
                            status = 409  # an event id is applied once; a repeat is answered 409
                        if status == 200:
                            fake.applied[document["event_id"]] += 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        return Handler
