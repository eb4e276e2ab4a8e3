"""The name search folds old and variant kanji: 髙橋 is found by 高橋 and the other way round."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from members import normalize
from members.models import Member
from members.selectors import search_members
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("髙橋 花子", "高橋花子"),
        ("山﨑　太郎", "山崎太郎"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("齋藤", "斎藤"),
        ("\U00020bb7田", "吉田"),
        ("濵田", "浜田"),
        ("斉藤", "斉藤"),  # 斉 and 斎 are different names: not merged
        ("ＴＡＮＡＫＡ", "TANAKA"),
    ],
)
def test_the_name_key_folds_variants_spaces_and_width(written, key):
    assert normalize.name_key(written) == key


def test_a_member_written_with_a_variant_is_found_by_the_everyday_form_and_back():
    takahashi = MemberFactory(family_name="髙橋", given_name="花子")
    yamazaki = MemberFactory(family_name="山崎", given_name="一郎")
    MemberFactory(family_name="高田", given_name="次郎")

    assert takahashi.family_name == "髙橋", "the name itself is kept as written"
    assert list(search_members("高橋")) == [takahashi]
    assert list(search_members("髙橋 花")) == [takahashi]
    assert list(search_members("山﨑")) == [yamazaki]
    assert set(search_members("高")) == {takahashi, *Member.objects.filter(family_name="高田")}


def test_the_migration_folds_keys_stored_before_it():
    member = MemberFactory(family_name="渡邊", given_name="健")
    Member.objects.filter(pk=member.pk).update(search_name="渡邊健")  # as stored before the fold
    untouched = MemberFactory(family_name="佐藤", given_name="健")

    migration = import_module("members.migrations.0005_fold_name_variants")
    migration.fold(apps, SimpleNamespace(connection=connection))

    assert Member.objects.get(pk=member.pk).search_name == "渡辺健"
    assert Member.objects.get(pk=untouched.pk).search_name == "佐藤健"
    assert list(search_members("渡辺")) == [Member.objects.get(pk=member.pk)]
