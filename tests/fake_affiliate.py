"""A fake affiliate (提携先) on a free loopback port: verifies the partner-sync signature, records
event ids, and answers as a test programs it (status codes, slowness). Over TLS with a certificate
of a test CA (``tls_files``) when given one, as an affiliate on a private line answers."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of a throwaway CA and of a server certificate it signed for 127.0.0.1."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def tls_files(directory: Path) -> TLSFiles:
    """A new CA and a certificate for the address 127.0.0.1 signed by it, written to ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("consentoffice test CA"))
        .issuer_name(name("consentoffice test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("fake affiliate"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TLSFiles(directory / "ca.pem", directory / "affiliate.pem", directory / "affiliate-key.pem")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


class _Server(ThreadingHTTPServer):
    # Two drains send up to 16 requests at once: the default backlog of 5 would refuse some
    # connections on a busy machine, which the sender rightly retries (a second attempt).
    request_queue_size = 64


class FakeAffiliate:
    def __init__(self, secret: str, *, tls: TLSFiles | None = None):
        self.secret = secret
        self.tls = tls
        self.responses: list[int] = []  # consumed one per request; then ``default``
        self.default = 200
        self.delay = 0.0
        self.received: list[dict] = []
        self.arrived = threading.Event()  # set when the first request comes in (before any delay)
        self.bad_signatures = 0
        self.applied: Counter = Counter()  # event id -> times answered 200
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", free_port()), self._handler())
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_file, tls.key_file)
            # Handshakes happen in each request's thread, not in the accepting loop.
            self.server.socket = context.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

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
