"""The disclosure package (APPI Art. 33; clause Art. 4): everything held on the member.

A ZIP with ``member.json`` (all of it, by category), one CSV per category ①–⑩ of clause Art. 1(1)
(every file present, a header row at least), the consent history, the records of provision to
third parties (APPI Art. 33(5)) and of entrustment, the bureau registrations, and the letter as
a Japanese PDF. CSVs are UTF-8 with a BOM so that spreadsheet software in Japan opens them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from bureaus.models import Submission
from consentoffice.core import crypto
from consentoffice.core.csv_export import csv_lines
from members.models import (
    CATEGORY_1_FIELDS,
    Consent,
    ContactRecord,
    Contract,
    DataCategory,
    Entrustment,
    FinancialDeclaration,
    IdentityDocument,
    Member,
    OnlineAuthEvent,
    PaymentRecord,
    ProvisionRecord,
    PublicRecord,
)
from requests import letters

PRIVATE_STORAGE = "private"
REQUESTER_LANGUAGE = "ja"

# Category -> (file name, model, fields, how the rows of one member are selected).
CATEGORY_FILES: dict[int, tuple[str, type[models.Model], tuple[str, ...], str]] = {
    DataCategory.ATTRIBUTES: (
        "01_attributes.csv",
        Member,
        ("member_no", *CATEGORY_1_FIELDS, "status"),
        "pk",
    ),
    DataCategory.CONTRACT: (
        "02_contracts.csv",
        Contract,
        (
            "contract_no",
            "kind",
            "product_name",
            "affiliate",
            "consent_version",
            "applied_on",
            "contracted_on",
            "credit_limit",
            "installments",
            "settlement_account",
            "status",
            "ended_on",
            "decline_reason",
        ),
        "member",
    ),
    DataCategory.PAYMENT: (
        "03_payments.csv",
        PaymentRecord,
        ("contract", "month", "billed_amount", "paid_amount", "balance", "status_code", "days_overdue"),
        "contract__member",
    ),
    DataCategory.FINANCES: (
        "04_financial_declarations.csv",
        FinancialDeclaration,
        ("declared_on", "annual_income", "assets", "debts", "note"),
        "member",
    ),
    DataCategory.CONTACT: (
        "05_contact_records.csv",
        ContactRecord,
        ("at", "channel", "inbound", "summary", "recording_ref"),
        "member",
    ),
    DataCategory.IDENTITY: (
        "06_identity_documents.csv",
        IdentityDocument,
        ("kind", "number", "verified_at", "note"),
        "member",
    ),
    DataCategory.PUBLIC_DOCUMENT: (
        "07_public_documents.csv",
        IdentityDocument,
        ("kind", "number", "verified_at", "note"),
        "member",
    ),
    DataCategory.INCOME_PROOF: (
        "08_income_documents.csv",
        IdentityDocument,
        ("kind", "number", "verified_at", "note"),
        "member",
    ),
    DataCategory.ONLINE_AUTH: (
        "09_online_authentication.csv",
        OnlineAuthEvent,
        ("at", "kind", "succeeded", "ip_address", "device", "merchant"),
        "member",
    ),
    DataCategory.PUBLIC_RECORD: (
        "10_public_records.csv",
        PublicRecord,
        ("found_on", "source", "summary"),
        "member",
    ),
}
RECORD_FILES: dict[str, tuple[type[models.Model], tuple[str, ...], str]] = {
    "provision_records.csv": (
        ProvisionRecord,
        ("provided_on", "recipient_kind", "recipient", "items", "basis", "consent_recorded", "kept_until"),
        "member",
    ),
    "entrustment_records.csv": (
        Entrustment,
        ("contractor", "purpose", "items", "provided_on", "returned_on"),
        "member",
    ),
    "bureau_registrations.csv": (
        Submission,
        ("bureau", "record_type", "event_date", "registered_until", "status"),
        "member",
    ),
}
CONSENT_HISTORY_FILE = "consent_history.csv"
LETTER_FILE = "letter.pdf"
JSON_FILE = "member.json"


@dataclass
class Built:
    path: str
    sha256: str
    size: int
    files: list[str]


def _label(model: type[models.Model], field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def _plain(value: Any) -> Any:
    """Lazy translations and other proxies as plain strings for JSON."""
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)


def _value(obj: models.Model, field: str) -> Any:
    model_field = obj._meta.get_field(field)
    if model_field.is_relation:
        related = getattr(obj, field)
        return "" if related is None else str(related)
    if model_field.choices:
        return getattr(obj, f"get_{field}_display")()
    value = getattr(obj, field)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else value


def _rows(model, fields, path, member) -> list[models.Model]:
    qs = model.objects.filter(**{path: member.pk if path == "pk" else member})
    relations = [f for f in fields if model._meta.get_field(f).is_relation]
    if relations:
        qs = qs.select_related(*relations)
    return list(qs.order_by("pk"))


def _csv(model, fields, rows) -> bytes:
    header = [_label(model, f) for f in fields]
    return "".join(csv_lines(header, ([_value(row, f) for f in fields] for row in rows))).encode("utf-8")


def _consent_history(member: Member) -> tuple[list[str], list[list[Any]]]:
    header = [
        gettext("利用目的"),
        gettext("同意"),
        gettext("同意条項の版"),
        gettext("記録日時"),
        gettext("経路"),
        gettext("変更の種類"),
        gettext("理由"),
    ]
    history = (
        Consent.history.filter(member_id=member.pk)
        .select_related("purpose", "version")
        .order_by("history_date", "history_id")
    )
    kinds = {"+": gettext("登録"), "~": gettext("変更"), "-": gettext("削除")}
    rows = [
        [
            row.purpose.name,
            pgettext("consent state", "同意") if row.granted else pgettext("consent state", "不同意"),
            row.version.code,
            timezone.localtime(row.recorded_at).isoformat(timespec="seconds"),
            row.get_source_display(),
            kinds.get(row.history_type, row.history_type),
            row.history_change_reason or "",
        ]
        for row in history
    ]
    return header, rows


def collect(member: Member) -> dict[str, tuple[type[models.Model], tuple[str, ...], list[models.Model]]]:
    """Every file's rows for one member, each model read with one query."""
    files = {}
    documents = list(IdentityDocument.objects.filter(member=member).order_by("pk"))
    for category, (name, model, fields, path) in CATEGORY_FILES.items():
        if model is IdentityDocument:
            rows = [d for d in documents if d.category == category]
        else:
            rows = _rows(model, fields, path, member)
        files[name] = (model, fields, rows)
    for name, (model, fields, path) in RECORD_FILES.items():
        files[name] = (model, fields, _rows(model, fields, path, member))
    return files


def build_package(ticket, *, actor) -> Built:
    # The package and its letter go to the requester: Japanese whatever language the operator reads.
    with translation.override(REQUESTER_LANGUAGE):
        return _build_package(ticket, actor=actor)


def _build_package(ticket, *, actor) -> Built:
    member = ticket.member
    generated_at = timezone.localtime()
    files = collect(member)
    header, consent_rows = _consent_history(member)
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    document: dict[str, Any] = {
        "company": settings.INFORMATION_CENTER["company"],
        "ticket": ticket.number,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "member_no": member.member_no,
        "categories": {},
        "records": {},
    }
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for category, (name, _model, _fields, _path) in CATEGORY_FILES.items():
            model, fields, rows = files[name]
            zf.writestr(name, _csv(model, fields, rows))
            document["categories"][str(DataCategory(category).label)] = [
                {_label(model, f): _plain(_value(r, f)) for f in fields} for r in rows
            ]
        for name in RECORD_FILES:
            model, fields, rows = files[name]
            zf.writestr(name, _csv(model, fields, rows))
            document["records"][name] = [
                {_label(model, f): _plain(_value(r, f)) for f in fields} for r in rows
            ]
        zf.writestr(CONSENT_HISTORY_FILE, "".join(csv_lines(header, consent_rows)).encode("utf-8"))
        document["consent_history"] = [dict(zip(header, row, strict=True)) for row in consent_rows]
        zf.writestr(
            JSON_FILE, json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        )
        listing = [JSON_FILE, *(f[0] for f in CATEGORY_FILES.values()), *RECORD_FILES, CONSENT_HISTORY_FILE]
        zf.writestr(LETTER_FILE, letters.disclosure_letter(ticket, listing))
        names = zf.namelist()
    size = archive.tell()
    digest = _sha256(archive)
    # Encrypted at rest with the field keys, chunk by chunk (consentoffice.core.crypto), mode 0600; the
    # SHA-256 is the plaintext ZIP's, the one the requester can check.
    encrypted = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    archive.seek(0)
    crypto.encrypt_stream(archive, encrypted)
    encrypted.seek(0)
    name = f"disclosures/{ticket.number}/{generated_at:%Y%m%d%H%M%S}-{digest[:12]}.zip.enc"
    saved = storages[PRIVATE_STORAGE].save(name, File(encrypted))
    return Built(path=saved, sha256=digest, size=size, files=names)


SPOOL_BYTES = 8 * 1024 * 1024  # a package larger than this is built and encrypted on disk


def _sha256(stream) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(crypto.FILE_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def open_package(path: str):
    """The plaintext ZIP of a stored package, chunk by chunk (for the download). The file is
    opened now, so a file that cannot be read fails here rather than halfway through a response."""
    return _plaintext(storages[PRIVATE_STORAGE].open(path, "rb"))


def _plaintext(stream):
    with stream:
        yield from crypto.decrypt_stream(stream)


def delete_package_files(packages) -> int:
    """Delete the stored files of ``packages`` (a queryset); the rows keep the manifest, size and
    SHA-256 as the record of what was disclosed. Returns how many files were deleted."""
    storage = storages[PRIVATE_STORAGE]
    deleted = 0
    for name in packages.exclude(file="").values_list("file", flat=True).iterator():
        if storage.exists(name):
            storage.delete(name)
            deleted += 1
    return deleted


def package_keep_cutoff(now=None):
    """Packages delivered before this moment have had their ``DISCLOSURE_PACKAGE_KEEP_DAYS``: their
    files go (the nightly purge), and a missing file of one is no fault (``verify_private_files``)."""
    from datetime import timedelta

    return (now or timezone.now()) - timedelta(days=settings.DISCLOSURE_PACKAGE_KEEP_DAYS)


def purge_delivered_packages(*, today=None) -> int:
    """Files of packages delivered more than ``DISCLOSURE_PACKAGE_KEEP_DAYS`` ago (nightly)."""
    from requests.models import DisclosurePackage

    cutoff = package_keep_cutoff(today)
    return delete_package_files(DisclosurePackage.objects.filter(delivered_at__lt=cutoff))


def reencrypt_package_files(*, first, dry_run: bool = False) -> tuple[int, int]:
    """Key rotation for the package files (``manage.py reencrypt_fields``): every stored file not
    yet under the first key is encrypted again, chunk by chunk. Returns (files, rotated)."""
    from requests.models import DisclosurePackage

    storage = storages[PRIVATE_STORAGE]
    files = rotated = 0
    for name in DisclosurePackage.objects.exclude(file="").values_list("file", flat=True).iterator():
        if not storage.exists(name):
            continue
        files += 1
        with storage.open(name, "rb") as stream:
            if crypto.file_is_current(stream, first):
                continue
        rotated += 1
        if dry_run:
            continue
        fresh = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        with storage.open(name, "rb") as stream:
            crypto.reencrypt_stream(stream, fresh)
        fresh.seek(0)
        storage.delete(name)
        storage.save(name, File(fresh))
    return files, rotated
