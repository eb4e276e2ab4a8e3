"""Translations (docs/translations.md): the msgids are Japanese, locale/en holds an English
translation of every one of them, the committed .mo files are the compiled .po files, and the
back-office follows the language chosen with set_language.

These tests fail when someone adds a string without translating it: the msgids are collected
fresh from the code by ``makemessages`` in a copy of the sources and compared with the catalogs.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.conftest import REQUIRE_SERVICES
from tests.factories import MemberFactory

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# What `make messages` leaves out (Makefile MESSAGES_IGNORE), plus the catalogs themselves.
NOT_SCANNED = (
    ".venv",
    ".git",
    "locale",
    "tests",
    "var",
    "node_modules",
    "staticfiles",
    "test-artifacts",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "db.sqlite3*",
)
# %(name)s-style and {name}-style placeholders, as Python formats them.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%|\{(?:[A-Za-z_]\w*|\d*)\}")
CONTEXT_SEPARATOR = "\x04"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"GNU gettext's {name} is needed (Debian package gettext)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _compile(po: Path, mo: Path, *, use_fuzzy: bool = False) -> dict:
    """Compile ``po`` as compilemessages does (msgfmt --check-format) and return its catalog."""
    command = [_tool("msgfmt"), "--check-format", "-o", str(mo), str(po)]
    if use_fuzzy:
        command.insert(1, "--use-fuzzy")
    subprocess.run(command, check=True, capture_output=True)
    return _read_mo(mo)


def _read_mo(mo: Path) -> dict:
    with mo.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)
    catalog.pop("", None)  # the header
    return catalog


def _msgid(key) -> str:
    """A catalog key without its context and plural index: what the code wrote."""
    msgid = key[0] if isinstance(key, tuple) else key
    return msgid.split(CONTEXT_SEPARATOR, 1)[-1]


def _describe(keys) -> str:
    return "\n".join(sorted({repr(key) for key in keys}))


@pytest.fixture(scope="module")
def code_msgids(tmp_path_factory) -> set:
    """Every msgid in the code now (catalog keys: ``ctx\\x04msgid``, ``(msgid, n)`` for plurals),
    collected by makemessages in a copy of the sources so that the committed catalogs stay as
    they are."""
    _tool("xgettext")
    msgen = _tool("msgen")
    root = tmp_path_factory.mktemp("i18n") / "src"
    shutil.copytree(settings.BASE_DIR, root, ignore=shutil.ignore_patterns(*NOT_SCANNED))
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    fresh = root / "locale" / "en" / "LC_MESSAGES" / "django.po"
    filled = fresh.with_suffix(".filled.po")
    # msgen copies each msgid into its msgstr, so that msgfmt keeps every entry.
    subprocess.run([msgen, "-o", str(filled), str(fresh)], check=True, capture_output=True)
    keys = set(_compile(filled, fresh.with_suffix(".mo"), use_fuzzy=True))
    assert len(keys) > 100, "makemessages found almost no strings: is the copy complete?"
    return keys


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory) -> dict[str, dict]:
    """The committed .po files compiled afresh: untranslated and fuzzy entries are left out."""
    out = tmp_path_factory.mktemp("catalogs")
    return {
        lang: _compile(LOCALE / lang / "LC_MESSAGES" / "django.po", out / f"{lang}.mo") for lang in LANGUAGES
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_in_the_code_is_translated(code_msgids, catalogs, lang):
    translated = {key for key, text in catalogs[lang].items() if text}
    missing = code_msgids - translated
    assert not missing, (
        f"{len(missing)} msgid(s) without a {lang} translation: run `make messages`, translate them in "
        f"locale/{lang}/LC_MESSAGES/django.po and compile (docs/translations.md):\n{_describe(missing)}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogs_hold_only_strings_of_the_code(code_msgids, catalogs, lang):
    stale = set(catalogs[lang]) - code_msgids
    assert not stale, (
        f"locale/{lang} holds msgids no longer in the code: run `make messages`:\n{_describe(stale)}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_fuzzy_or_untranslated_entries(lang):
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    for selection in ("--only-fuzzy", "--untranslated"):
        result = subprocess.run(
            [_tool("msgattrib"), selection, "--no-obsolete", str(po)],
            check=True,
            capture_output=True,
            text=True,
        )
        assert result.stdout == "", f"{po} has {selection[2:]} entries:\n{result.stdout}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalogs_are_up_to_date(catalogs, lang):
    committed = LOCALE / lang / "LC_MESSAGES" / "django.mo"
    assert committed.exists(), f"{committed} is missing: run `make messages`"
    assert _read_mo(committed) == catalogs[lang], f"{committed} is older than its .po: run `make messages`"


def test_placeholders_are_the_same_in_every_translation(catalogs):
    wrong = []
    for lang, catalog in catalogs.items():
        for key, text in catalog.items():
            if Counter(PLACEHOLDER.findall(_msgid(key))) != Counter(PLACEHOLDER.findall(text)):
                wrong.append(f"{lang}: {_msgid(key)!r} -> {text!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_the_japanese_catalog_keeps_the_japanese_text(catalogs):
    """The msgids are the Japanese UI: the ja catalog must not reword them (Django's own English
    msgids repeated in our templates are the exception)."""
    changed = {
        key: text
        for key, text in catalogs["ja"].items()
        if text != _msgid(key) and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", _msgid(key))
    }
    assert not changed, f"ja msgstr differs from its msgid: {changed}"


def test_the_english_catalog_is_english(catalogs):
    """A msgstr still in Japanese is an untranslated string in disguise."""
    japanese = {
        _msgid(key): text
        for key, text in catalogs["en"].items()
        if re.search(r"[\u3040-\u309f\u30a0-\u30ff\u4e00-\u9fff]", text)
    }
    assert not japanese, f"en msgstr still in Japanese: {japanese}"


# --- pages in the chosen language ----------------------------------------------------------


def _switch(client, language: str, next_url: str):
    response = client.post(reverse("set_language"), {"language": language, "next": next_url})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    return client.get(next_url)


def test_admin_login_is_japanese_by_default_and_english_after_switching(client, db):
    japanese = client.get("/admin/login/")
    assert japanese.status_code == 200
    page = japanese.content.decode()
    assert '<html lang="ja"' in page
    assert "consentoffice インフォメーションセンター" in page
    assert "表示言語" in page
    assert f'action="{reverse("set_language")}"' in page

    english = _switch(client, "en", "/admin/login/")
    page = english.content.decode()
    assert '<html lang="en"' in page
    assert "consentoffice Information Center" in page
    assert "Language" in page
    assert "インフォメーションセンター" not in page

    again = _switch(client, "ja", "/admin/login/")
    assert "consentoffice インフォメーションセンター" in again.content.decode()


def test_a_browser_asking_for_english_still_gets_japanese_until_english_is_chosen(client, db):
    """consentoffice.core.i18n.ChosenLanguageMiddleware: only the selector's choice counts."""
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="ja"' in page

    page = _switch(client, "en", "/admin/login/").content.decode()
    assert '<html lang="en"' in page


def test_member_list_follows_the_chosen_language(client, operator):
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    assert operator.groups.filter(pk=Group.objects.get(name="operator").pk).exists()
    MemberFactory(member_no="1000000001")
    client.force_login(operator)
    url = reverse("admin:members_member_changelist")

    page = client.get(url).content.decode()
    assert "変更する 会員 を選択" in page  # Django's ja catalog with our model name
    assert "会員番号" in page

    page = _switch(client, "en", url).content.decode()
    assert "Select member to change" in page  # Django's en text with our lowercase model name
    assert "Member number" in page
    assert "1000000001" in page
    assert "会員番号" not in page
