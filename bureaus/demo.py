"""Demo bureau records for ``manage.py seed_demo`` (clause Art. 3): inquiries, registrations, one
answered batch file with a reject, one batch still waiting for its answer, and pending records.

Everything goes through ``bureaus.services`` as the people and the scheduled job that would do it
in real work: operators inquire, the system user (the ``build_batches`` task) sweeps contract
events and builds the files, a supervisor imports the bureau's answer. The section runs once: when
a demo member already has an inquiry it creates nothing.
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from bureaus import fileformat, services
from bureaus.models import Inquiry, InquiryPurpose, SubmissionBatch
from consentoffice.core.history import system_user
from members.demo import DemoContext, member_no_for
from members.models import Contract, ContractStatus

# Contracts of the first demo members inquired about before the batch, and after it (pending).
BATCHED_CONTRACTS = 10
PENDING_CONTRACTS = 3
# The record the bureau sends back (結果コード: 電話番号に不備があります).
REJECT_CODE = "13"
REJECTING_BUREAU = "CIC"


def _demo_contracts(ctx: DemoContext):
    numbers = [member_no_for(i) for i in range(1, ctx.member_count + 1)]
    return Contract.objects.filter(member__member_no__in=numbers).select_related("member").order_by("pk")


def _inquiry_time(contract: Contract, ctx: DemoContext) -> datetime:
    """At 10:00 on the application day (the screening), never in the future."""
    at = timezone.make_aware(datetime.combine(contract.applied_on, time(10)))
    return min(at, ctx.now - timedelta(minutes=1))


def _inquire(ctx: DemoContext, contract: Contract, n: int) -> int:
    actor = ctx.operator_for(n)
    for bureau in ("CIC", "JICC"):
        services.make_inquiry(
            actor=actor,
            contract=contract,
            bureau=bureau,
            purpose=InquiryPurpose.ABILITY_TO_PAY,
            inquired_at=_inquiry_time(contract, ctx),
        )
    return 2


def _bureau_answer(batch: SubmissionBatch, reject_id: int) -> io.BytesIO:
    """What the bureau sends back for ``batch``: every record accepted except ``reject_id``."""
    results = []
    with storages[services.PRIVATE_STORAGE].open(batch.file_name, "rb") as stream:
        for record in fileformat.read_batch_file(stream):
            if "submission_id" in record:
                code = REJECT_CODE if record["submission_id"] == reject_id else fileformat.ACCEPTED
                results.append((record["sequence"], record["submission_id"], code))
    out = io.BytesIO()
    fileformat.write_response(
        out,
        bureau_code=batch.bureau.code,
        batch_id=batch.pk,
        answered_on=timezone.localdate(),
        results=results,
    )
    out.seek(0)
    return out


def seed_bureau_records(ctx: DemoContext) -> int:
    """Returns how many inquiries it made (0 when the demo already has them)."""
    contracts = list(_demo_contracts(ctx))
    if not contracts or Inquiry.objects.filter(contract__in=contracts).exists():
        return 0
    screened = [c for c in contracts if c.status in (ContractStatus.FORMED, ContractStatus.ENDED)]
    waiting = [c for c in contracts if c.status == ContractStatus.APPLIED]
    made = 0
    with transaction.atomic():
        for n, contract in enumerate(screened[:BATCHED_CONTRACTS], start=1):
            made += _inquire(ctx, contract, n)
        system = system_user()
        # What the nightly build_batches task does: register contract and payment facts, then files.
        services.sweep_contract_events(actor=system)
        batches = services.build_batches(actor=system)
        answered = next((b for b in batches if b.bureau.code == REJECTING_BUREAU), None)
        if answered is not None:
            reject = answered.submissions.order_by("pk").values_list("pk", flat=True).first()
            services.import_response(
                actor=ctx.users["supervisor"], batch=answered, stream=_bureau_answer(answered, reject)
            )
        # Applications screened since the last file: registered, not sent yet.
        for n, contract in enumerate(waiting[:PENDING_CONTRACTS], start=1):
            made += _inquire(ctx, contract, n)
    return made
