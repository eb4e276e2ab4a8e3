"""Field encryption at rest (MultiFernet; keys from FIELD_ENCRYPTION_KEYS, the first encrypts).

Adding a key in front of the list and running ``manage.py reencrypt_fields`` rotates every
stored value to the new key; old keys keep decrypting until they are removed.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key.") from exc


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


def mask(value: str | int | None, visible: int = 4) -> str:
    """``****7890``: what an operator sees of a sensitive value."""
    if value in (None, ""):
        return ""
    text = str(value)
    return "****" + text[-visible:] if visible and len(text) > visible else "****"


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token; plaintext never reaches the database.

    Encrypted values cannot be searched or ordered; keep a separate non-sensitive key where a
    lookup is needed.
    """

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_internal_type(self) -> str:
        return "TextField"


class SecretTextField(EncryptedTextField):
    """An encrypted secret that nobody reads back: masked whole for every role, the audit trail
    included (an affiliate's shared secret is shown once, when the system issues it)."""

    never_shown = True


class EncryptedIntegerField(EncryptedTextField):
    """An integer (declared income, for instance) stored encrypted; read back as ``int``."""

    description = "Encrypted integer"

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return None if value in (None, "") else int(value)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, int):
            return value
        try:
            return int(str(value).replace(",", ""))
        except ValueError as exc:
            from django.core.exceptions import ValidationError
            from django.utils.translation import gettext as _

            raise ValidationError(_("整数で入力してください。"), code="invalid") from exc

    def formfield(self, **kwargs):
        from django import forms

        return forms.IntegerField(**{"required": not self.blank, "min_value": 0, **kwargs})


# --- Files encrypted at rest (disclosure packages) --------------------------------------------
#
# A file is a header line, then the plaintext in chunks of FILE_CHUNK bytes, each a Fernet token
# behind its length (4 bytes, big-endian): written and read chunk by chunk, so a large file never
# sits in memory whole, and rotated keys keep decrypting as for fields.

FILE_MAGIC = b"CONSENTOFFICE-FERNET-CHUNKS-1\n"
FILE_CHUNK = 256 * 1024


def encrypt_stream(source, target) -> None:
    """Encrypt the readable binary ``source`` into the writable binary ``target``."""
    target.write(FILE_MAGIC)
    while chunk := source.read(FILE_CHUNK):
        token = fernet().encrypt(chunk)
        target.write(len(token).to_bytes(4, "big"))
        target.write(token)


def decrypt_stream(source):
    """The plaintext of an encrypted file, chunk by chunk (a generator over ``source``)."""
    if source.read(len(FILE_MAGIC)) != FILE_MAGIC:
        raise ImproperlyConfigured("The file is not an encrypted consentoffice file.")
    while header := source.read(4):
        token = source.read(int.from_bytes(header, "big"))
        try:
            yield fernet().decrypt(token)
        except InvalidToken as exc:
            raise ImproperlyConfigured(
                "A stored file cannot be decrypted with FIELD_ENCRYPTION_KEYS."
            ) from exc


def file_is_current(source, first: Fernet) -> bool:
    """Whether an encrypted file's first chunk is under ``first`` (the key rotation writes to)."""
    if source.read(len(FILE_MAGIC)) != FILE_MAGIC:
        return False
    header = source.read(4)
    if not header:
        return True
    try:
        first.decrypt(source.read(int.from_bytes(header, "big")))
    except InvalidToken:
        return False
    return True


def reencrypt_stream(source, target) -> None:
    """Decrypt ``source`` chunk by chunk (any key) and encrypt it again under the first key."""
    target.write(FILE_MAGIC)
    for chunk in decrypt_stream(source):
        token = fernet().encrypt(chunk)
        target.write(len(token).to_bytes(4, "big"))
        target.write(token)
