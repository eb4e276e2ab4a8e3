"""factory-boy factories: valid, already-normalized rows for test setup."""

from __future__ import annotations

from datetime import date

import factory
from factory.django import DjangoModelFactory
from faker import Faker

from members import models as m

fake = Faker("ja_JP")


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = m.Member

    member_no = factory.Sequence(lambda n: f"{2000000000 + n:010d}")
    family_name = "山田"
    given_name = factory.Sequence(lambda n: f"太郎{n}")
    family_name_kana = "ヤマダ"
    given_name_kana = "タロウ"
    birth_date = date(1980, 4, 1)
    gender = m.Gender.MALE
    postal_code = "1658555"
    prefecture = "東京都"
    city = "中野区江原町"
    address_line = "1-13-22"
    phone = factory.Sequence(lambda n: f"090{n:08d}")
    email = factory.Sequence(lambda n: f"member{n}@example.jp")
    occupation = "会社員"
    employer_name = "サンプル商事"
    status = m.MemberStatus.ACTIVE


class AffiliateFactory(DjangoModelFactory):
    class Meta:
        model = m.Affiliate

    code = factory.Sequence(lambda n: f"partner{n}")
    name = factory.Sequence(lambda n: f"提携先{n}")
    endpoint = "http://127.0.0.1:9/"
    shared_secret = "test-shared-secret"
    active = True


def current_version() -> m.ConsentVersion:
    return m.ConsentVersion.objects.filter(published_at__isnull=False).order_by("-effective_from").first()


class ContractFactory(DjangoModelFactory):
    class Meta:
        model = m.Contract

    member = factory.SubFactory(MemberFactory)
    contract_no = factory.Sequence(lambda n: f"C{500000000 + n:09d}")
    kind = m.ContractKind.SHOPPING
    product_name = "スタンダードカード"
    consent_version = factory.LazyFunction(current_version)
    applied_on = date(2024, 1, 10)
    contracted_on = date(2024, 1, 20)
    credit_limit = 500000
    installments = 1
    settlement_account = "0001-001-1234567"
    status = m.ContractStatus.FORMED


class ContactRecordFactory(DjangoModelFactory):
    class Meta:
        model = m.ContactRecord

    member = factory.SubFactory(MemberFactory)
    channel = m.ContactChannel.PHONE
    summary = "住所変更の問い合わせ"


class IdentityDocumentFactory(DjangoModelFactory):
    class Meta:
        model = m.IdentityDocument

    member = factory.SubFactory(MemberFactory)
    kind = m.IdentityDocumentKind.DRIVER_LICENSE
    number = "123456789012X"
    verified_by = factory.LazyFunction(
        lambda: __import__("consentoffice.core.history", fromlist=["x"]).system_user()
    )


def grant_all_consents(member: m.Member) -> None:
    version = current_version()
    for purpose in m.Purpose.objects.all():
        m.Consent.objects.update_or_create(
            member=member,
            purpose=purpose,
            defaults={"granted": True, "version": version, "source": "application"},
        )
