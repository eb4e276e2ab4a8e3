"""One member and what is held on them: consents, the financial declaration, the identity
document, contact records, the partner-sync event of a partner-card holder. Search keys are
derived as ``Member.refresh_search_keys`` derives them."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from consentoffice.devtools.bulk.history import Chunk
from consentoffice.devtools.bulk.tables import FIRST_BULK_MEMBER_NO, PARTNER_EVERY, REASON, TICKET_EVERY
from consentoffice.devtools.bulk.values import NULL, iso
from members import normalize
from members.demo import CONTACT_SUMMARIES, EMAIL_DOMAINS, OWN_BUSINESSES, PLACES

CONTRACT_STATUS_WEIGHTS = (("formed", 75), ("ended", 12), ("declined", 5), ("applied", 8))


class MemberRows:
    """``RowBuilder``'s member rows."""

    # -- member
    def member(self, chunk: Chunk, index: int) -> None:
        rng = self.rng
        member_id = self.counters.take("members_member")
        member_no = str(FIRST_BULK_MEMBER_NO + index - 1)
        gender = rng.choices(("male", "female", "unspecified"), weights=(48, 48, 4))[0]
        family, family_kana, family_romaji = self._pick(self.pools.family)
        given_pool = self.pools.male if gender == "male" else self.pools.female
        if gender == "unspecified":
            given_pool = self.pools.male if rng.random() < 0.5 else self.pools.female
        given, given_kana, given_romaji = self._pick(given_pool)
        prefecture, city, postal3, area = self._pick(PLACES)
        if rng.random() < 0.75:
            phone = self._pick(("090", "080", "070")) + f"{rng.randrange(100_000_000):08d}"
        else:
            local = 10 - len(area)
            phone = area + str(rng.randint(2, 9)) + f"{rng.randrange(10 ** (local - 1)):0{local - 1}d}"
        address_line = f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
        if rng.random() < 0.5:
            address_line += f" {self._pick(self.pools.buildings)}{rng.randint(1, 9)}{rng.randint(1, 12):02d}"
        email = ""
        if rng.random() < 0.85:
            email = f"{given_romaji}.{family_romaji}{index}@{self._pick(EMAIL_DOMAINS)}"
        occupation = rng.choices(self.occupations, weights=self.occupation_weights)[0]
        employer = {
            "company": self._pick(self.pools.companies),
            "public": f"{prefecture}庁",
            "own": f"{family}{self._pick(OWN_BUSINESSES)}",
            "": "",
        }[self.employer_kind[occupation]]
        birth = date(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28))

        contract_count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
        statuses = rng.choices(self.statuses, weights=self.status_weights, k=contract_count)
        if "formed" in statuses:
            status = "suspended" if rng.random() < 0.02 else "active"
        elif "applied" in statuses:
            status = "applicant"
        else:
            status = "closed"
        joined = self.today - timedelta(days=rng.randint(400, 3650))
        created_at = self._at_iso(joined, 1)
        identity = {
            "family_name": family,
            "given_name": given,
            "family_name_kana": family_kana,
            "given_name_kana": given_kana,
            "birth_date": birth.isoformat(),
            "gender": gender,
            "postal_code": postal3 + f"{rng.randrange(10000):04d}",
            "prefecture": prefecture,
            "city": city + self._pick(self.pools.towns),
            "address_line": address_line,
            "phone": phone,
            "employer_name": employer,
        }
        operator = self._pick(self.ref.operators)
        values = [
            str(member_id),
            member_no,
            family,
            given,
            family_kana,
            given_kana,
            identity["birth_date"],
            gender,
            identity["postal_code"],
            prefecture,
            identity["city"],
            address_line,
            phone,
            email,
            occupation,
            employer,
            self._pick(("single", "with_spouse", "with_family", "other")),
            self._pick(("owned", "family_owned", "rented", "company", "other")),
            rng.choices(("living", "business", "cashing", "other"), weights=(80, 8, 10, 2))[0],
            status,
            "f",
            created_at,
        ]
        live = values + [family_kana + given_kana, normalize.name_key(family + given), iso(self.now)]
        chunk.lines["members_member"].append("\t".join(live) + "\n")
        hid = self.counters.take("members_historicalmember")
        chunk.lines["members_historicalmember"].append(
            "\t".join(values) + f"\t{hid}\t{created_at}\t{REASON}\t+\t{operator}\n"
        )

        identity_json = json.dumps(identity, ensure_ascii=False, separators=(",", ":"))
        self._consents(chunk, member_id, created_at, operator)
        self._declaration(chunk, member_id, joined, operator)
        self._identity_document(chunk, member_id, created_at, operator)
        self._contacts(chunk, member_id, operator, index)
        partner = index % PARTNER_EVERY == 0
        for n, contract_status in enumerate(statuses):
            affiliate = (
                self.ref.affiliates[index // PARTNER_EVERY % len(self.ref.affiliates)]
                if partner and n == 0
                else None
            )
            self._contract(
                chunk,
                member_id,
                member_no,
                index,
                n,
                contract_status,
                joined,
                operator,
                affiliate,
                identity_json,
            )
        if partner:
            self._sync_event(chunk, member_id, member_no, index, phone, operator)
        if index % TICKET_EVERY == 0:
            self._ticket(chunk, member_id, index)

    def _consents(self, chunk: Chunk, member_id: int, stamp: str, operator: int) -> None:
        rng = self.rng
        for code, chance in (
            ("credit", 1),
            ("marketing_own", 0.8),
            ("marketing_partner", 0.6),
            ("research", 0.7),
            ("bureau", 1),
        ):
            purpose = self.ref.purposes.get(code)
            if purpose is None:
                continue
            granted = "t" if rng.random() < chance else "f"
            values = [
                str(self.counters.take("members_consent")),
                granted,
                stamp,
                "application",
                str(self.ref.version_id),
                str(member_id),
                str(purpose),
            ]
            chunk.add("members_consent", values, at=stamp, user=operator)

    def _declaration(self, chunk: Chunk, member_id: int, joined: date, operator: int) -> None:
        rng = self.rng
        values = [
            str(self.counters.take("members_financialdeclaration")),
            joined.isoformat(),
            self._pick(self.pools.incomes),
            str(rng.randrange(0, 30_000_000, 10_000)),
            str(rng.randrange(0, 5_000_000, 10_000)),
            "",
            str(member_id),
        ]
        chunk.add("members_financialdeclaration", values, at=self._at_iso(joined, 2), user=operator)

    def _identity_document(self, chunk: Chunk, member_id: int, at: str, operator: int) -> None:
        kind = self._pick(
            ("driver_license", "driver_license", "passport", "insurance_card", "residence_card")
        )
        values = [
            str(self.counters.take("members_identitydocument")),
            kind,
            self._pick(self.pools.document_numbers),
            str(operator),
            at,
            "",
            str(member_id),
        ]
        chunk.add("members_identitydocument", values, at=at, user=operator)

    def _contacts(self, chunk: Chunk, member_id: int, operator: int, index: int) -> None:
        rng = self.rng
        for n in range(rng.choices((0, 1, 2), weights=(45, 45, 10))[0]):
            channel, summary = self._pick(CONTACT_SUMMARIES)
            at = self.now - timedelta(days=rng.randint(1, 365), minutes=rng.randint(0, 600))
            recording = f"REC-{at:%Y%m%d}-{index}{n}" if channel == "phone" else ""
            values = [
                str(self.counters.take("members_contactrecord")),
                iso(at),
                str(channel),
                "t",
                summary,
                recording,
                str(operator),
                str(member_id),
            ]
            chunk.add("members_contactrecord", values, at=iso(at), user=operator)

    def _sync_event(self, chunk, member_id, member_no, index, phone, operator) -> None:
        rng = self.rng
        occurred = self.now - timedelta(days=rng.randint(1, 300))
        affiliate_id = self.ref.affiliates[index // PARTNER_EVERY % len(self.ref.affiliates)][0]
        payload = json.dumps({"member_no": member_no, "changes": {"phone": phone}}, separators=(",", ":"))
        values = [
            str(self.counters.take("members_partnersyncevent")),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "outbound",
            payload,
            "sent",
            "1",
            iso(occurred),
            "",
            iso(occurred),
            iso(occurred + timedelta(seconds=2)),
            str(affiliate_id),
            str(member_id),
        ]
        pending = values[:4] + ["pending", "0", iso(occurred), "", iso(occurred), NULL] + values[10:]
        chunk.add(
            "members_partnersyncevent",
            values,
            history=[
                (pending, iso(occurred), "+", operator),
                (values, iso(occurred + timedelta(seconds=2)), "~", operator),
            ],
        )
