"""``manage.py seed_demo``: idempotent demo data and one login per role (development only).

It lives in the project package because it seeds every app (``consentoffice.devtools.demo``).
"""

from __future__ import annotations

import os
import time
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils.translation import gettext as _

from consentoffice.devtools import demo as full_demo
from members import demo


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = _(
        "デモデータ（会員・契約・同意・提携カード・委託先・受付票・信用情報機関の記録）と"
        "ロールごとのデモ用ユーザーを作成します。"
        "何度実行しても結果は同じです。本番環境では実行できません。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--members",
            type=int,
            default=demo.DEFAULT_MEMBER_COUNT,
            help=_("作成する会員の数（既定: %(default)s）"),
        )

    def handle(self, *args, members: int, **options):
        if settings.PRODUCTION:
            raise CommandError(
                _("本番環境（DJANGO_ENV=production）ではデモデータを作成できません。")
                + " / seed_demo refuses to run with DJANGO_ENV=production."
            )
        if members < 0:
            raise CommandError(_("会員の数は0以上で指定してください。"))
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_DEMO_PASSWORD
        started = time.monotonic()
        try:
            # The debug SQL log would take a sixth of the time of thousands of small writes.
            with override_settings(DEBUG=False):
                ctx, created = full_demo.seed(member_count=members, password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{name}: {count}" for name, count in created.items())
        self.stdout.write(
            self.style.SUCCESS(
                _("デモデータを作成しました（新規 %(summary)s、%(seconds).1f 秒）。")
                % {"summary": summary, "seconds": elapsed}
            )
        )
        self._print_logins(ctx.logins)

    def _print_logins(self, logins: list[demo.Login]) -> None:
        header = (_("ユーザー名 / Username"), _("ロール / Role"), _("パスワード / Password"))
        rows = []
        for login in logins:
            rows.append((login.username, f"{demo.ROLE_LABELS[login.role]} / {login.role}", login.password))
        widths = [max(_width(str(row[col])) for row in (header, *rows)) for col in range(3)]
        line = "+".join("-" * (w + 2) for w in widths)
        self.stdout.write("")
        self.stdout.write(_("デモ用ログイン / Demo logins（開発環境専用 / development only）"))
        self.stdout.write(f"+{line}+")
        self.stdout.write(
            "| " + " | ".join(_pad(str(h), w) for h, w in zip(header, widths, strict=True)) + " |"
        )
        self.stdout.write(f"+{line}+")
        for row in rows:
            self.stdout.write(
                "| " + " | ".join(_pad(str(c), w) for c, w in zip(row, widths, strict=True)) + " |"
            )
        self.stdout.write(f"+{line}+")
        if not all(login.created for login in logins):
            self.stdout.write(
                _("既存のユーザーのパスワードは変更していません / Existing users keep their password.")
            )
        self.stdout.write(_("ログイン画面 / Login: /admin/login/"))
        with_otp = [login for login in logins if login.totp_secret]
        if with_otp:
            self.stdout.write("")
            self.stdout.write(
                _(
                    "二段階認証 / Two-factor (TOTP): 次の秘密鍵を認証アプリに登録し、"
                    "パスワードの後に6桁のコードを入力してください（開発環境専用 / development only）。"
                )
            )
            for login in with_otp:
                self.stdout.write(f"  {login.username}: {login.totp_secret}")
                self.stdout.write(f"    {login.totp_uri}")
            self.stdout.write(_("認証アプリがない場合 / Without an app: manage.py totp_code <username>"))
