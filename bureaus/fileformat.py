"""The fixed-width registration and response files exchanged with member bureaus.

Field by field description: docs/bureau-file-format.md. In short: CP932 (Shift_JIS with the
Windows/IBM extensions, as Japanese bureau and bank interchange uses), one record per line ended
by CRLF, every record ``RECORD_LENGTH`` bytes long. Text is padded with half-width spaces *in bytes
after encoding* (a full-width kana counts 2), truncated at a character boundary, never in the
middle of a double-byte character. A character CP932 cannot hold becomes 〓 (geta).

The writer works chunk by chunk on a binary stream and keeps a SHA-256 digest as it goes, so a
file of any size is written in constant memory; the readers iterate the same way. Data records are
encoded from flat rows (``ROW_FIELDS``, selected by ``bureaus.services`` with the same table) by
per-field encoders built once from ``DATA_LAYOUT``: a million records take seconds, not minutes.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import call
from typing import IO, Any

from django.utils.translation import gettext_lazy as _

ENCODING = "cp932"
NEWLINE = b"\r\n"
RECORD_LENGTH = 700
RESPONSE_RECORD_LENGTH = 80
FORMAT_VERSION = "0100"
GETA = "〓"

HEADER, DATA, TRAILER = "1", "2", "8"


class FileFormatError(ValueError):
    """A file that does not follow the format (no personal data in the message)."""


def _geta(error: UnicodeEncodeError) -> tuple[str, int]:
    return GETA * (error.end - error.start), error.end


codecs.register_error("bureau_geta", _geta)


@dataclass(frozen=True)
class Field:
    """``kind``: N number (zero-filled, right), X text (space-padded, left), D date YYYYMMDD,
    M month YYYYMM (dates may be blank)."""

    name: str
    length: int
    kind: str = "X"


def _layout(*fields: Field, length: int) -> tuple[Field, ...]:
    used = sum(f.length for f in fields)
    if used > length:
        raise AssertionError(f"layout is {used} bytes, longer than {length}")
    return (*fields, Field("filler", length - used))


# Record type codes as the bureau reads them (2 digits), one table with the model's values.
RECORD_TYPE_CODES: dict[str, str] = {
    "application": "01",
    "contract": "02",
    "payment": "03",
    "delinquency": "04",
    "delinquency_resolved": "05",
    "contract_end": "06",
    "collection": "11",
    "debt_settlement": "12",
    "guarantee_performance": "13",
    "forced_cancellation": "14",
    "bankruptcy": "15",
    "credit_transfer": "16",
    "identity": "21",
    "correction": "22",
    "deletion": "29",
}
RECORD_TYPES_BY_CODE = {code: name for name, code in RECORD_TYPE_CODES.items()}
GENDER_CODES = {"male": "1", "female": "2", "unspecified": "0", "": "0"}
GENDERS_BY_CODE = {"1": "male", "2": "female", "0": "unspecified"}
CONTRACT_KIND_CODES = {"shopping": "01", "cashing": "02", "card_loan": "03", "installment": "04", "": "00"}
CONTRACT_KINDS_BY_CODE = {code: kind for kind, code in CONTRACT_KIND_CODES.items()}
# Category ① items a bureau registers, in the order of the ``changed_fields`` flags.
IDENTITY_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "gender",
    "postal_code",
    "prefecture",
    "city",
    "address_line",
    "phone",
    "employer_name",
)

HEADER_LAYOUT = _layout(
    Field("record_kind", 1),
    Field("data_kind", 2),
    Field("format_version", 4),
    Field("bureau_code", 4),
    Field("sender_code", 10),
    Field("batch_id", 10, "N"),
    Field("created_on", 8, "D"),
    Field("created_time", 6, "N"),
    length=RECORD_LENGTH,
)
DATA_LAYOUT = _layout(
    Field("record_kind", 1),
    Field("sequence", 7, "N"),
    Field("submission_id", 12, "N"),
    Field("record_type", 2),
    Field("event_date", 8, "D"),
    Field("registered_until", 8, "D"),
    Field("original_id", 12, "N"),
    Field("member_no", 16),
    Field("contract_no", 20),
    Field("family_name_kana", 40),
    Field("given_name_kana", 40),
    Field("family_name", 40),
    Field("given_name", 40),
    Field("birth_date", 8, "D"),
    Field("gender", 1),
    Field("postal_code", 7),
    Field("prefecture", 8),
    Field("city", 60),
    Field("address_line", 120),
    Field("phone", 11),
    Field("employer_name", 80),
    Field("changed_fields", 12),
    Field("contract_kind", 2),
    Field("applied_on", 8, "D"),
    Field("contracted_on", 8, "D"),
    Field("ended_on", 8, "D"),
    Field("credit_limit", 10, "N"),
    Field("installments", 3, "N"),
    Field("payment_month", 6, "M"),
    Field("payment_status", 1),
    Field("billed_amount", 10, "N"),
    Field("paid_amount", 10, "N"),
    Field("balance", 10, "N"),
    Field("days_overdue", 4, "N"),
    length=RECORD_LENGTH,
)
TRAILER_LAYOUT = _layout(
    Field("record_kind", 1),
    Field("record_count", 7, "N"),
    Field("checksum", 64),
    length=RECORD_LENGTH,
)

RESPONSE_HEADER_LAYOUT = _layout(
    Field("record_kind", 1),
    Field("data_kind", 2),
    Field("bureau_code", 4),
    Field("batch_id", 10, "N"),
    Field("answered_on", 8, "D"),
    length=RESPONSE_RECORD_LENGTH,
)
RESPONSE_DATA_LAYOUT = _layout(
    Field("record_kind", 1),
    Field("sequence", 7, "N"),
    Field("submission_id", 12, "N"),
    Field("result_code", 2),
    length=RESPONSE_RECORD_LENGTH,
)
RESPONSE_TRAILER_LAYOUT = _layout(
    Field("record_kind", 1),
    Field("record_count", 7, "N"),
    Field("accepted_count", 7, "N"),
    Field("rejected_count", 7, "N"),
    length=RESPONSE_RECORD_LENGTH,
)

ACCEPTED = "00"
# Result codes of the response file (結果コード表).
RESULT_CODES: dict[str, Any] = {
    ACCEPTED: _("正常に登録されました"),
    "10": _("本人を特定する情報（氏名・フリガナ）に不備があります"),
    "11": _("生年月日に誤りがあります"),
    "12": _("住所・郵便番号に不備があります"),
    "13": _("電話番号に不備があります"),
    "20": _("契約内容に不備があります"),
    "21": _("返済状況の内容に不備があります"),
    "30": _("日付に不整合があります"),
    "40": _("訂正・削除の対象となる登録がありません"),
    "50": _("同じ内容がすでに登録されています"),
    "90": _("その他のエラーです（機関へ照会してください）"),
}
UNKNOWN_RESULT = _("未定義の結果コードです")


def result_message(code: str) -> str:
    return str(RESULT_CODES.get(code, UNKNOWN_RESULT))


# --- encoding -------------------------------------------------------------------------------


_CONTROL = {code: " " for code in (*range(0x20), 0x7F)}


def encode_text(value: Any, length: int) -> bytes:
    """CP932 bytes padded with spaces to ``length``; cut at a character boundary."""
    if not value:
        return b" " * length
    text = str(value)
    encoded = text.translate(_CONTROL).encode(ENCODING, errors="bureau_geta")
    if len(encoded) > length:
        # Decoding a CP932 prefix from its start is unambiguous: "ignore" drops only a lead
        # byte whose second byte was cut off.
        encoded = encoded[:length].decode(ENCODING, errors="ignore").encode(ENCODING)
    return encoded + b" " * (length - len(encoded))


def _encode_number(value: Any, length: int) -> bytes:
    if not value:
        return b"0" * length
    text = str(int(value or 0))
    if len(text) > length or text.startswith("-"):
        raise FileFormatError(f"a value does not fit in {length} digits")
    return text.zfill(length).encode("ascii")


def _encode_day(value: Any, length: int) -> bytes:
    if not value:
        return b" " * length
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"[:length].encode("ascii")


_ENCODERS = {"N": _encode_number, "X": encode_text, "D": _encode_day, "M": _encode_day}
# Plans of the layouts used so far, by identity (hashing a layout of dataclasses per record costs
# more than encoding it); the layout is kept in the value so its id is never reused.
_PLANS: dict[int, tuple[tuple[Field, ...], tuple[tuple[str, int, Any], ...]]] = {}


def _compiled(layout: tuple[Field, ...]) -> tuple[tuple[str, int, Any], ...]:
    plan = _PLANS.get(id(layout))
    if plan is None:
        plan = _PLANS[id(layout)] = (layout, tuple((f.name, f.length, _ENCODERS[f.kind]) for f in layout))
    return plan[1]


def encode_record(layout: tuple[Field, ...], values: dict[str, Any], length: int) -> bytes:
    get = values.get
    record = b"".join([encode(get(name, ""), size) for name, size, encode in _compiled(layout)])
    if len(record) != length:
        raise AssertionError("record length mismatch")
    return record + NEWLINE


# Per-field encoders for the data records: the same functions as above, with a bounded memo of
# repeated text, dates and amounts (names, prefectures, months) and a direct path for integers.
_MEMO_LIMIT = 4096
Encoder = Callable[[Any], bytes]


def _memo(encode: Callable[[Any, int], bytes], length: int, keys: tuple[type, ...]) -> Encoder:
    empty = encode(None, length)
    memo: dict[Any, bytes] = {}

    def field(value: Any) -> bytes:
        if not value:
            return empty
        if value.__class__ not in keys:
            return encode(value, length)
        out = memo.get(value)
        if out is None:
            out = encode(value, length)
            if len(memo) < _MEMO_LIMIT:
                memo[value] = out
        return out

    return field


def _number_field(length: int) -> Encoder:
    limit = 10**length
    pattern = b"%0" + str(length).encode("ascii") + b"d"
    other = _memo(_encode_number, length, (str,))

    def field(value: Any) -> bytes:
        if value.__class__ is int and 0 < value < limit:
            return pattern % value
        return other(value)

    return field


def _field_encoder(field: Field) -> Encoder:
    if field.kind == "N":
        return _number_field(field.length)
    if field.kind == "X":
        return _memo(encode_text, field.length, (str,))
    return _memo(_encode_day, field.length, (str, date))


def _decode(field: Field, raw: bytes) -> Any:
    if field.kind == "N":
        if not raw.isdigit():
            raise FileFormatError(f"{field.name}: not a number")
        return int(raw)
    if field.kind in ("D", "M"):
        text = raw.decode("ascii").strip()
        if not text:
            return None
        try:
            return datetime.strptime(text + ("01" if field.kind == "M" else ""), "%Y%m%d").date()
        except ValueError:
            raise FileFormatError(f"{field.name}: not a date") from None
    return raw.decode(ENCODING).rstrip(" ")


def decode_record(layout: Iterable[Field], line: bytes, length: int) -> dict[str, Any]:
    if not line.endswith(NEWLINE) or len(line) != length + len(NEWLINE):
        raise FileFormatError("record is not of the fixed length or not ended by CRLF")
    values: dict[str, Any] = {}
    position = 0
    for field in layout:
        raw = line[position : position + field.length]
        position += field.length
        if field.name != "filler":
            values[field.name] = _decode(field, raw)
    return values


# --- registration file ----------------------------------------------------------------------


# Where the values of a data record come from, in the layout's order: columns of the submission,
# then paths into its payload snapshot (``services.snapshots.build_payload``).
# ``bureaus.services.batches`` selects rows in this order straight from the database;
# ``payload_row`` makes one from a payload dict.
SUBMISSION_COLUMNS = ("submission_id", "record_type", "event_date", "registered_until", "original_id")
PAYLOAD_PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("member_no", ("member_no",)),
    ("contract_no", ("contract", "contract_no")),
    *(
        (name, ("identity", name))
        for name in ("family_name_kana", "given_name_kana", "family_name", "given_name")
    ),
    *((name, ("identity", name)) for name in ("birth_date", "gender", "postal_code", "prefecture", "city")),
    *((name, ("identity", name)) for name in ("address_line", "phone", "employer_name")),
    ("changed_fields", ("changed_fields",)),
    ("contract_kind", ("contract", "kind")),
    *((name, ("contract", name)) for name in ("applied_on", "contracted_on", "ended_on")),
    *((name, ("contract", name)) for name in ("credit_limit", "installments")),
    ("payment_month", ("payment", "month")),
    ("payment_status", ("payment", "status_code")),
    *((name, ("payment", name)) for name in ("billed_amount", "paid_amount", "balance", "days_overdue")),
)
# Payload values that arrive as JSON text (a list), the others as plain values.
JSON_FIELDS = frozenset({"changed_fields"})
ROW_FIELDS = SUBMISSION_COLUMNS + tuple(name for name, _path in PAYLOAD_PATHS)
if ROW_FIELDS != tuple(f.name for f in DATA_LAYOUT[2:-1]):
    raise AssertionError("ROW_FIELDS must follow DATA_LAYOUT")


def _lookup(payload: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def payload_row(
    *, submission_id: int, record_type: str, event_date, registered_until, original_id, payload: dict
) -> tuple:
    """The row of ``ROW_FIELDS`` values of one data record, from a submission's payload snapshot."""
    values = []
    for name, path in PAYLOAD_PATHS:
        value = _lookup(payload, path)
        if name in JSON_FIELDS and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        values.append(value)
    return (submission_id, record_type, event_date, registered_until, original_id, *values)


def _code_field(codes: dict[str, str], length: int, default: str | None) -> Encoder:
    """A coded value (record type, gender, contract kind) as its code; an unknown record type
    is an error, an unknown gender or kind the default code."""
    table = {name: encode_text(code, length) for name, code in codes.items()}
    if default is None:
        return table.__getitem__
    fallback = encode_text(default, length)
    return lambda value: table.get(value or "", fallback)


def _changed_fields(value: Any) -> bytes:
    """Correction flags, one 1/0 per identity item (``IDENTITY_FIELDS``)."""
    changed = set(json.loads(value) if value.__class__ is str else value or ())
    return encode_text("".join("1" if name in changed else "0" for name in IDENTITY_FIELDS), 12)


def _data_encoders() -> tuple[Encoder, ...]:
    special = {
        "record_type": _code_field(RECORD_TYPE_CODES, 2, None),
        "gender": _code_field(GENDER_CODES, 1, "0"),
        "contract_kind": _code_field(CONTRACT_KIND_CODES, 2, "00"),
        "changed_fields": _changed_fields,
    }
    return tuple(special.get(f.name) or _field_encoder(f) for f in DATA_LAYOUT[2:-1])


_DATA_ENCODERS = _data_encoders()
_DATA_KIND = encode_text(DATA, DATA_LAYOUT[0].length)
_SEQUENCE = _number_field(DATA_LAYOUT[1].length)
_DATA_END = b" " * DATA_LAYOUT[-1].length + NEWLINE
_DATA_SIZE = RECORD_LENGTH + len(NEWLINE)


class BatchWriter:
    """Writes header, data records and trailer to a binary stream, hashing as it goes.

    ``checksum`` (in the trailer) is the SHA-256 of every byte before the trailer; ``sha256`` is
    the SHA-256 of the whole file, kept on the batch.
    """

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.count = 0
        self._body = hashlib.sha256()
        self.sha256 = ""

    def _write(self, data: bytes) -> None:
        self._body.update(data)
        self.stream.write(data)

    def header(self, *, bureau_code: str, sender_code: str, batch_id: int, created_at: datetime) -> None:
        values = {
            "record_kind": HEADER,
            "data_kind": "RG",
            "format_version": FORMAT_VERSION,
            "bureau_code": bureau_code,
            "sender_code": sender_code,
            "batch_id": batch_id,
            "created_on": created_at.date(),
            "created_time": int(created_at.strftime("%H%M%S")),
        }
        self._write(encode_record(HEADER_LAYOUT, values, RECORD_LENGTH))

    def record(self, **values: Any) -> None:
        """One data record from a submission's columns and payload (see ``payload_row``)."""
        self.rows([payload_row(**values)])

    def rows(self, rows: Iterable[Sequence[Any]]) -> int:
        """Data records from rows of ``ROW_FIELDS`` values, written as one block; returns how many."""
        encoders, sequence, count, block = _DATA_ENCODERS, _SEQUENCE, self.count, []
        for row in rows:
            count += 1
            record = b"".join((_DATA_KIND, sequence(count), *map(call, encoders, row), _DATA_END))
            if len(record) != _DATA_SIZE:
                raise AssertionError("record length mismatch")
            block.append(record)
        if block:
            self._write(b"".join(block))
        written, self.count = count - self.count, count
        return written

    def trailer(self) -> str:
        values = {"record_kind": TRAILER, "record_count": self.count, "checksum": self._body.hexdigest()}
        trailer = encode_record(TRAILER_LAYOUT, values, RECORD_LENGTH)
        whole = self._body.copy()
        whole.update(trailer)
        self.stream.write(trailer)
        self.sha256 = whole.hexdigest()
        return self.sha256


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    for line in stream:
        if line:
            yield line


def read_batch_file(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """Yield the header, each data record and the trailer of a registration file, checking the
    record kinds, the count and the checksum (``FileFormatError`` otherwise)."""
    body = hashlib.sha256()
    count = 0
    state = "header"
    for line in _lines(stream):
        kind = line[:1].decode("ascii", errors="replace")
        if state == "header":
            if kind != HEADER:
                raise FileFormatError("the file does not start with a header record")
            body.update(line)
            state = "data"
            yield decode_record(HEADER_LAYOUT, line, RECORD_LENGTH)
        elif state == "data" and kind == DATA:
            body.update(line)
            count += 1
            record = decode_record(DATA_LAYOUT, line, RECORD_LENGTH)
            if record["sequence"] != count:
                raise FileFormatError("data records are not in sequence")
            record["record_type"] = RECORD_TYPES_BY_CODE.get(record["record_type"], record["record_type"])
            record["gender"] = GENDERS_BY_CODE.get(record["gender"], record["gender"])
            record["contract_kind"] = CONTRACT_KINDS_BY_CODE.get(record["contract_kind"], "")
            yield record
        elif state == "data" and kind == TRAILER:
            trailer = decode_record(TRAILER_LAYOUT, line, RECORD_LENGTH)
            if trailer["record_count"] != count:
                raise FileFormatError("the trailer count does not match the data records")
            if trailer["checksum"] != body.hexdigest():
                raise FileFormatError("the trailer checksum does not match")
            state = "done"
            yield trailer
        else:
            raise FileFormatError("unexpected record after the trailer or of an unknown kind")
    if state != "done":
        raise FileFormatError("the file has no trailer record")


# --- response file --------------------------------------------------------------------------


def write_response(
    stream: IO[bytes],
    *,
    bureau_code: str,
    batch_id: int,
    answered_on: date,
    results: Iterable[tuple[int, int, str]],
) -> None:
    """A bureau's response file: ``results`` are (sequence, submission id, result code).

    The bureaus produce these; the writer serves tests and demo data.
    """
    header = {
        "record_kind": HEADER,
        "data_kind": "RS",
        "bureau_code": bureau_code,
        "batch_id": batch_id,
        "answered_on": answered_on,
    }
    stream.write(encode_record(RESPONSE_HEADER_LAYOUT, header, RESPONSE_RECORD_LENGTH))
    count = accepted = 0
    for sequence, submission_id, code in results:
        count += 1
        accepted += code == ACCEPTED
        values = {
            "record_kind": DATA,
            "sequence": sequence,
            "submission_id": submission_id,
            "result_code": code,
        }
        stream.write(encode_record(RESPONSE_DATA_LAYOUT, values, RESPONSE_RECORD_LENGTH))
    trailer = {
        "record_kind": TRAILER,
        "record_count": count,
        "accepted_count": accepted,
        "rejected_count": count - accepted,
    }
    stream.write(encode_record(RESPONSE_TRAILER_LAYOUT, trailer, RESPONSE_RECORD_LENGTH))


@dataclass(frozen=True)
class ResponseHeader:
    bureau_code: str
    batch_id: int
    answered_on: date | None


def read_response(stream: IO[bytes]) -> tuple[ResponseHeader, Iterator[dict[str, Any]]]:
    """The header and an iterator of the data records; the iterator checks the trailer counts
    when it reaches the end (so a caller inside a transaction rolls back on a bad file)."""
    lines = _lines(stream)
    first = next(lines, b"")
    if first[:1] != HEADER.encode():
        raise FileFormatError("the response does not start with a header record")
    header = decode_record(RESPONSE_HEADER_LAYOUT, first, RESPONSE_RECORD_LENGTH)

    def records() -> Iterator[dict[str, Any]]:
        count = accepted = 0
        for line in lines:
            kind = line[:1].decode("ascii", errors="replace")
            if kind == DATA:
                record = decode_record(RESPONSE_DATA_LAYOUT, line, RESPONSE_RECORD_LENGTH)
                count += 1
                accepted += record["result_code"] == ACCEPTED
                yield record
            elif kind == TRAILER:
                trailer = decode_record(RESPONSE_TRAILER_LAYOUT, line, RESPONSE_RECORD_LENGTH)
                if (trailer["record_count"], trailer["accepted_count"]) != (count, accepted) or trailer[
                    "rejected_count"
                ] != count - accepted:
                    raise FileFormatError("the response trailer counts do not match its records")
                if next(lines, None) is not None:
                    raise FileFormatError("records after the response trailer")
                return
            else:
                raise FileFormatError("a response record of an unknown kind")
        raise FileFormatError("the response has no trailer record")

    return (
        ResponseHeader(header["bureau_code"], header["batch_id"], header["answered_on"]),
        records(),
    )
