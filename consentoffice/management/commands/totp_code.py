"""``manage.py totp_code <username>``: the current six-digit code of a user's TOTP device.

Development only (refuses with DJANGO_ENV=production): lets someone trying the demo log in as a
supervisor without an authenticator app. In production the code exists only in the user's app.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from consentoffice.accounts import twofactor


class Command(BaseCommand):
    help = _("利用者の認証アプリに表示される現在の確認コードを表示します（開発環境専用）。")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if settings.PRODUCTION:
            raise CommandError(_("本番環境（DJANGO_ENV=production）では使えません。"))
        user = get_user_model().objects.filter(username=username).first()
        device = twofactor.confirmed_device(user) if user else None
        if device is None:
            raise CommandError(_("このユーザーには確認済みの認証アプリが登録されていません。"))
        self.stdout.write(f"{device.totp().token():0{device.DIGITS}d}")
