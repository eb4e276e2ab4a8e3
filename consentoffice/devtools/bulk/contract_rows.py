"""A contract, its twelve months of payments, its bureau submissions (application, contract,
the pending monthly payment) and the provision records they leave. The check constraints hold
by construction: a formed contract has a contract date, an ended one an end date."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bureaus.fileformat import IDENTITY_FIELDS
from consentoffice.core.dates import add_months, period_end
from consentoffice.devtools.bulk.history import Chunk
from consentoffice.devtools.bulk.reference import AFFILIATE_SHARED_ITEMS, BULK_AFFILIATES
from consentoffice.devtools.bulk.tables import PARTNER_EVERY, REASON
from consentoffice.devtools.bulk.values import NULL, esc, iso

CIC_NAME = "株式会社シー・アイ・シー"
PRODUCTS = {
    "shopping": "スタンダードカード",
    "cashing": "キャッシングサービス",
    "card_loan": "カードローン",
    "installment": "ショッピングクレジット",
}


class ContractRows:
    """``RowBuilder``'s contract rows."""

    def _contract(
        self,
        chunk: Chunk,
        member_id: int,
        member_no: str,
        index: int,
        n: int,
        status: str,
        joined: date,
        operator: int,
        affiliate: tuple[int, str] | None,
        identity_json: str,
    ) -> None:
        rng = self.rng
        contract_id = self.counters.take("members_contract")
        kind = (
            "shopping"
            if affiliate or n == 0
            else self._pick(("cashing", "card_loan", "installment", "shopping"))
        )
        product = affiliate[1] if affiliate else PRODUCTS[kind]
        if status == "applied":
            applied = self.today - timedelta(days=rng.randint(1, 30))
        elif status == "ended":
            applied = joined + timedelta(days=rng.randint(0, 60))
        else:
            applied = min(joined + timedelta(days=rng.randint(0, 200)), self.today - timedelta(days=400))
        contracted = applied + timedelta(days=7) if status in ("formed", "ended") else None
        ended = None
        if status == "ended":
            ended = max(contracted + timedelta(days=400), self.today - timedelta(days=rng.randint(30, 1400)))
            ended = min(ended, self.today - timedelta(days=1))
        credit = rng.choice((100_000, 300_000, 500_000, 800_000, 1_000_000)) if status != "declined" else 0
        installments = 1 if kind in ("shopping", "cashing") else rng.choice((3, 6, 12, 24))
        contract_no = f"K{index:09d}{n}"
        values = [
            str(contract_id),
            contract_no,
            kind,
            product,
            applied.isoformat(),
            contracted.isoformat() if contracted else NULL,
            str(credit),
            str(installments),
            self._pick(self.pools.accounts),
            status,
            ended.isoformat() if ended else NULL,
            "credit_judgement" if status == "declined" else "",
            str(affiliate[0]) if affiliate else NULL,
            str(self.ref.version_id),
            str(member_id),
        ]
        chunk.add("members_contract", values, at=self._at_iso(applied, 2), user=operator)
        if self.cic is None:
            return
        contract_json = json.dumps(
            {
                "contract_no": contract_no,
                "kind": kind,
                "product_name": product,
                "applied_on": applied.isoformat(),
                "contracted_on": contracted.isoformat() if contracted else None,
                "ended_on": ended.isoformat() if ended else None,
                "credit_limit": credit,
                "installments": installments,
                "status": status,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        base = f'{{"member_no":"{member_no}","identity":{identity_json},"contract":{contract_json}'
        until = period_end(applied, months=6)
        self._submission(
            chunk,
            member_id,
            contract_id,
            "application",
            applied,
            until,
            base + "}",
            "accepted" if until >= self.today else "expired",
            operator,
        )
        if contracted is None:
            return
        self._submission(
            chunk,
            member_id,
            contract_id,
            "contract",
            contracted,
            period_end(ended, months=60) if ended else None,
            base + "}",
            "accepted",
            operator,
        )
        self._provision(chunk, member_id, contracted, contract_no, operator)
        if affiliate and index // PARTNER_EVERY % len(self.ref.affiliates) == 0:
            self._provision(chunk, member_id, contracted, contract_no, operator, affiliate=True)
        profile = self._pick(
            self.pools.delinquent_profiles if rng.random() < 0.02 else self.pools.payment_profiles
        )
        last_month = len(self.months) - 1
        months = range(len(self.months))
        if ended is not None:
            # An ended contract keeps the 12 months before its end (shifted, same profile).
            end_first = ended.replace(day=1)
            month_days = [add_months(end_first, -k) for k in range(12, 0, -1)]
            month_text = [d.isoformat() for d in month_days]
            month_history = [iso(self._at(add_months(d, 1) + timedelta(days=4), 3)) for d in month_days]
        else:
            month_text, month_history = self.month_text, self.month_history
        ids = self.counters.next_id
        pid, hid = ids["members_paymentrecord"], ids["members_historicalpaymentrecord"]
        live, hist = chunk.lines["members_paymentrecord"], chunk.lines["members_historicalpaymentrecord"]
        tail = f"\t{contract_id}"
        for m in months:
            billed, paid, balance, code, days = profile[m]
            row = f"{pid}\t{month_text[m]}\t{billed}\t{paid}\t{balance}\t{code}\t{days}{tail}"
            live.append(row + "\n")
            hist.append(f"{row}\t{hid}\t{month_history[m]}\t{REASON}\t+\t{operator}\n")
            pid += 1
            hid += 1
        ids["members_paymentrecord"], ids["members_historicalpaymentrecord"] = pid, hid
        if ended is None:
            billed, paid, balance, code, days = profile[last_month]
            payment = (
                f'"payment":{{"month":"{month_text[last_month]}","status_code":"{code}",'
                f'"billed_amount":{billed},"paid_amount":{paid},"balance":{balance},"days_overdue":{days}}}}}'
            )
            self._submission(
                chunk,
                member_id,
                contract_id,
                "payment",
                self.months[last_month],
                None,
                base + "," + payment,
                "pending",
                operator,
            )

    def _submission(
        self, chunk, member_id, contract_id, record_type, event, until, payload, status, operator
    ) -> None:
        created = self._at_iso(event, 4)
        answered = self._at_iso(event + timedelta(days=3), 4) if status in ("accepted", "expired") else NULL
        values = [
            str(self.counters.take("bureaus_submission")),
            record_type,
            event.isoformat(),
            until.isoformat() if until else NULL,
            status,
            "00" if answered != NULL else "",
            "",
            answered,
            created,
            str(self.cic),
            str(contract_id),
            NULL,
            str(member_id),
            NULL,
            NULL,
        ]
        chunk.add("bureaus_submission", values, at=created, user=operator, live_only=(esc(payload),))

    def _provision(
        self, chunk, member_id, provided: date, contract_no: str, operator, *, affiliate=False
    ) -> None:
        values = [
            str(self.counters.take("members_provisionrecord")),
            "affiliate" if affiliate else "bureau",
            BULK_AFFILIATES[0][1] if affiliate else CIC_NAME,
            json.dumps(AFFILIATE_SHARED_ITEMS if affiliate else list(IDENTITY_FIELDS)),
            provided.isoformat(),
            "consent",
            "t",
            period_end(provided, years=3).isoformat(),
            contract_no,
            str(member_id),
        ]
        chunk.add("members_provisionrecord", values, at=self._at_iso(provided, 5), user=operator)
