"""A member's request ticket in any state, with one history row per status it went through. The
check constraints hold by construction: a closed request has an outcome, a refusal a ground, and
the approver is never the preparer."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from consentoffice.devtools.bulk.history import Chunk
from consentoffice.devtools.bulk.tables import TICKET_EVERY
from consentoffice.devtools.bulk.values import NULL, iso

TICKET_KIND_WEIGHTS = (
    ("disclosure", 30),
    ("correction", 15),
    ("deletion", 8),
    ("usage_stop", 5),
    ("provision_stop", 5),
    ("marketing_stop", 12),
    ("inquiry", 20),
    ("opinion", 5),
)
TICKET_FINAL_STATES = (
    "closed",
    "received",
    "closed",
    "verifying",
    "closed",
    "in_progress",
    "closed",
    "pending_approval",
    "closed",
)
TICKET_STATUS_PATH = ("received", "verifying", "in_progress", "pending_approval", "closed")
OUTCOME_WEIGHTS = (("fulfilled", 70), ("partly", 12), ("refused", 8), ("withdrawn", 10))


class TicketRows:
    """``RowBuilder``'s ticket rows."""

    # -- tickets: every state, one history row per status reached
    def _ticket(self, chunk: Chunk, member_id: int, index: int) -> None:
        rng = self.rng
        kind = rng.choices(self.ticket_kinds, weights=self.ticket_weights)[0]
        conversation = kind in ("inquiry", "opinion")
        # The final state cycles with the ticket's ordinal so that every state is present in
        # any data set with a handful of tickets (5 of 9 closed, the rest open).
        final = TICKET_FINAL_STATES[(index // TICKET_EVERY) % len(TICKET_FINAL_STATES)]
        if conversation and final in ("verifying", "pending_approval"):
            final = "in_progress"
        if final == "closed":
            received = self.now - timedelta(days=rng.randint(20, 700), minutes=rng.randint(0, 600))
        else:
            received = self.now - timedelta(days=rng.randint(0, 19), minutes=rng.randint(0, 600))
        local = timezone.localtime(received)
        prefix = f"T{local:%Y%m%d}-"
        seq = self.counters.ticket_seq.get(prefix, 0) + 1
        self.counters.ticket_seq[prefix] = seq
        from requests import rules

        due = rules.due_at(received)
        operator = self._pick(self.ref.operators)
        supervisor = self._pick(self.ref.supervisors)
        path = TICKET_STATUS_PATH if not conversation else ("received", "in_progress", "closed")
        steps = path[: path.index(final) + 1]
        outcome, ground, reason = "", "", ""
        if final == "closed" and not conversation:
            outcome = rng.choices([o for o, _w in OUTCOME_WEIGHTS], weights=[w for _o, w in OUTCOME_WEIGHTS])[
                0
            ]
            if outcome == "refused":
                ground = self._pick(("harm", "business", "law"))
                reason = "法令上の不開示事由に該当するため"
            elif outcome == "partly":
                reason = "保存義務のある記録を除いて対応"
        ticket_id = self.counters.take("requests_ticket")
        fee = str(settings.DISCLOSURE_FEE_YEN) if kind == "disclosure" else "0"
        state = {
            "status": "received",
            "identity_method": "",
            "identity_documents_seen": "0",
            "identity_verified_at": NULL,
            "identity_verified_by_id": NULL,
            "outcome": "",
            "refusal_ground": "",
            "outcome_reason": "",
            "approved_at": NULL,
            "closed_at": NULL,
            "approver_id": NULL,
            "prepared_by_id": NULL,
            "version": "1",
        }
        history = []
        at = received
        for n, step in enumerate(steps):
            if n:
                at = at + timedelta(hours=rng.randint(2, 60 if final == "closed" else 20))
                if final != "closed":
                    at = min(at, self.now - timedelta(minutes=len(steps) - n))
            state["status"] = step
            state["version"] = str(n + 1)
            if step == "in_progress" and not conversation:
                state.update(
                    identity_method="driver_license",
                    identity_documents_seen="1",
                    identity_verified_at=iso(at),
                    identity_verified_by_id=str(operator),
                )
            if step == "pending_approval" or (step == "closed" and not conversation):
                state.update(prepared_by_id=str(operator))
                if final == "closed":
                    state.update(outcome=outcome, refusal_ground=ground, outcome_reason=reason)
            if step == "closed":
                state.update(closed_at=iso(at))
                if not conversation:
                    state.update(approver_id=str(supervisor), approved_at=iso(at))
            values = [
                str(ticket_id),
                f"{prefix}{seq:04d}",
                kind,
                self._pick(("phone", "mail", "counter", "web")),
                "",
                "self",
                "",
                NULL,
                "f",
                state["identity_method"],
                state["identity_documents_seen"],
                state["identity_verified_at"],
                iso(received),
                iso(due),
                state["status"],
                state["outcome"],
                state["refusal_ground"],
                state["outcome_reason"],
                "",  # sent_back_reason: the bulk seed sends nothing back
                state["approved_at"],
                state["closed_at"],
                "paper",
                fee,
                NULL,
                "f",
                "",
                NULL,
                "0",
                NULL,
                state["version"],
                state["approver_id"],
                str(operator),
                state["identity_verified_by_id"],
                str(member_id),
                state["prepared_by_id"],
            ]
            actor = supervisor if step == "closed" and not conversation else operator
            history.append((values, iso(at), "+" if n == 0 else "~", actor))
        values[3] = history[0][0][3]  # one channel for the ticket
        for hvalues, *_rest in history:
            hvalues[3] = values[3]
        chunk.add("requests_ticket", values, history=history)
        log = [
            str(self.counters.take("members_accesslog")),
            "view",
            iso(received + timedelta(minutes=5)),
            "127.0.0.1",
            f"/admin/members/member/{member_id}/change/",
            "",
            str(member_id),
            str(operator),
        ]
        chunk.add("members_accesslog", log)
