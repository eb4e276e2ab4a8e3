"""Registration periods and provision-record keeping periods are now counted as the Civil Code
counts them (Art. 140, 143; ``consentoffice.core.dates.period_end``): stored dates computed the old way
(calendar months added to the anchor day) are recounted.

The two counts differ only when the anchor day is the last day of its month (28 Feb + 6 months:
28 Aug before, 31 Aug now; ``tests/test_dates.py`` proves it), so only rows anchored on a month end
and still holding the old date are touched: one UPDATE per distinct anchor day, one history row per
changed row (``copy_to_history``, the system user, the reason below). Identity and correction
records, which last as long as the member's longest other registration, follow. The tables and
periods are frozen here as they stood when the rule changed. A status is never changed: the
nightly expiry reads the new dates from now on.
"""

import calendar
from datetime import date

from django.db import migrations
from django.db.models import Exists, F, OuterRef, Q, Subquery

from consentoffice.core.dates import period_end
from consentoffice.core.i18n import record_text

CHUNK = 5000
LIVE = ("pending", "batched", "accepted")
DEPENDENT = ("identity", "correction")
CONTRACT_FACTS = ("contract", "payment", "delinquency", "delinquency_resolved", "contract_end")
JICC_TRANSACTION_FACTS = (
    "collection",
    "debt_settlement",
    "guarantee_performance",
    "forced_cancellation",
    "bankruptcy",
)
# (bureau code, record types, months) as ``bureaus.rules.RULES`` held them.
EVENT_PERIODS = [
    ("CIC", ("application",), 6),
    ("JICC", ("application",), 6),
    ("JICC", ("credit_transfer",), 12),
]
CONTRACT_END_PERIODS = [("CIC", CONTRACT_FACTS, 60), ("JICC", CONTRACT_FACTS + JICC_TRANSACTION_FACTS, 60)]
# ``members.services.PROVISION_RECORD_YEARS``.
PROVISION_YEARS = {"consent": 3, "law": 3, "contract": 1}


def old_count(day: date, months: int) -> date:
    """How the dates were computed before: calendar months, clamped to the end of the month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(field: str) -> Q:
    """Anchor days that can count differently (28 Feb of a leap year is let through; it does not)."""
    return (
        Q(**{f"{field}__day": 31})
        | Q(**{f"{field}__day": 30, f"{field}__month__in": (4, 6, 9, 11)})
        | Q(**{f"{field}__month": 2, f"{field}__day__gte": 28})
    )


def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class Recount:
    def __init__(self, apps, schema_editor):
        self.apps, self.alias = apps, schema_editor.connection.alias
        self._actor = None
        self.reason = record_text("民法の期間計算（初日不算入）により期限を再計算")

    def actor(self):
        if self._actor is None:
            from consentoffice.core.history import system_user

            self._actor = system_user()
        return self._actor

    def model(self, label):
        return self.apps.get_model(label).objects.using(self.alias)

    def recount(self, rows, field: str, anchor: str, months: int, *, history: str) -> list[int]:
        """Move ``field`` from the old to the new count for every row anchored on a month end."""
        from consentoffice.core.history import copy_to_history

        changed = []
        days = rows.filter(month_end(anchor)).order_by().values_list(anchor, flat=True).distinct()
        for day in sorted(set(days)):
            old, new = old_count(day, months), period_end(day, months=months)
            if old == new:
                continue
            ids = list(rows.filter(**{anchor: day, field: old}).values_list("pk", flat=True))
            for chunk in _chunks(ids):
                rows.model.objects.using(self.alias).filter(pk__in=chunk).update(**{field: new})
                copy_to_history(
                    rows.model.objects.using(self.alias).filter(pk__in=chunk),
                    actor=self.actor(),
                    reason=self.reason,
                    history_model=self.apps.get_model(history),
                )
            changed.extend(ids)
        return changed


def recount_registrations(apps, schema_editor):
    from consentoffice.core.history import copy_to_history

    job = Recount(apps, schema_editor)
    submissions = job.model("bureaus.Submission").filter(registered_until__isnull=False)
    changed = []
    for code, types, months in EVENT_PERIODS:
        rows = submissions.filter(bureau__code=code, record_type__in=types)
        changed += job.recount(
            rows, "registered_until", "event_date", months, history="bureaus.HistoricalSubmission"
        )
    for code, types, months in CONTRACT_END_PERIODS:
        rows = submissions.filter(bureau__code=code, record_type__in=types, contract__ended_on__isnull=False)
        changed += job.recount(
            rows, "registered_until", "contract__ended_on", months, history="bureaus.HistoricalSubmission"
        )
    if not changed:
        return
    # Identity data lasts as long as the member's longest other live registration at that bureau.
    members = set()
    for chunk in _chunks(changed):
        members |= set(submissions.filter(pk__in=chunk).values_list("member_id", flat=True))
    others = (
        job.model("bureaus.Submission")
        .filter(member_id=OuterRef("member_id"), bureau_id=OuterRef("bureau_id"), status__in=LIVE)
        .exclude(record_type__in=(*DEPENDENT, "deletion"))
    )
    longest = (
        others.filter(registered_until__isnull=False).order_by("-registered_until").values("registered_until")
    )
    for chunk in _chunks(sorted(members)):
        stale = (
            submissions.filter(member_id__in=chunk, record_type__in=DEPENDENT, status__in=LIVE)
            .exclude(Exists(others.filter(registered_until__isnull=True)))
            .annotate(longest=Subquery(longest[:1]))
            .filter(registered_until__lt=F("longest"))
        )
        ids = list(stale.values_list("pk", flat=True))
        if not ids:
            continue
        rows = job.model("bureaus.Submission").filter(pk__in=ids)
        rows.update(registered_until=Subquery(longest[:1]))
        copy_to_history(
            job.model("bureaus.Submission").filter(pk__in=ids),
            actor=job.actor(),
            reason=job.reason,
            history_model=apps.get_model("bureaus.HistoricalSubmission"),
        )


def recount_provision_records(apps, schema_editor):
    job = Recount(apps, schema_editor)
    records = job.model("members.ProvisionRecord")
    for basis, years in PROVISION_YEARS.items():
        job.recount(
            records.filter(basis=basis),
            "kept_until",
            "provided_on",
            12 * years,
            history="members.HistoricalProvisionRecord",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("bureaus", "0004_submission_batch_indexes"),
        ("members", "0005_fold_name_variants"),
    ]

    operations = [
        migrations.RunPython(recount_registrations, migrations.RunPython.noop),
        migrations.RunPython(recount_provision_records, migrations.RunPython.noop),
    ]
