"""``manage.py issue_enrolment_code <username>``: a one-time code to enrol an authenticator app.

For the system administrator at the server: the first supervisor of a new installation has no
colleague who could issue one on the enrolment-code page. Recorded as issued by the system user.
The code is printed once; only its keyed hash is stored.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice.accounts import twofactor
from consentoffice.core.history import system_user


class Command(BaseCommand):
    help = _("二段階認証の登録コードを発行します（最初のスーパーバイザーの登録などに使います）。")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("この利用者は存在しません。"))
        try:
            record, code = twofactor.issue_enrolment_code(user=user, issued_by=system_user(), system=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        expires = timezone.localtime(record.expires_at).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(code)
        self.stderr.write(_("有効期限: %(expires)s（一度だけ使えます）") % {"expires": expires})
