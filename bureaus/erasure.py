"""Bureau snapshots of an anonymized member (clause Art. 7, APPI Art. 35).

A submission's payload is the identity and contract snapshot sent to the bureau. By the time a
member is anonymized (``members.keeping``: ten years after the relationship ended) every
registration has lapsed and the provision record's three years are over, so the snapshot is
erased (the history never copies it); the submission row (bureau, record type, dates, status) stays as the
record that a registration was made. Registered from ``BureausConfig.ready``.
"""

from __future__ import annotations

from bureaus.models import Submission
from consentoffice.core.history import save_tracked
from members.models import Member
from members.services import ERASED_PAYLOAD


def erase_bureau_snapshots(member: Member, *, actor, reason: str) -> int:
    count = 0
    for submission in (
        Submission.objects.select_for_update().filter(member=member).exclude(payload=ERASED_PAYLOAD)
    ):
        submission.payload = ERASED_PAYLOAD
        save_tracked(submission, actor=actor, reason=reason, clean=False)
        count += 1
    # The history keeps no payload (bureaus.models.Submission): nothing of it to scrub there.
    return count
