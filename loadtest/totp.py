"""The second-factor code a load supervisor types: RFC 6238 with the standard library only.

HMAC-SHA1, 30-second steps from the Unix epoch, 6 digits: what ``consentoffice.models.
AuthenticatorDevice`` (django-otp's TOTP) accepts. ``tests/test_load_prepare.py`` checks the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time


def totp(key_hex: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"
