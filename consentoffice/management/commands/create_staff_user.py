"""``manage.py create_staff_user <username> --role <role>``: a back-office login with one role.

For the system administrator at the server, in production too: the first users of a new
installation (nobody can add users in the back-office yet) and later ones. The password is typed
twice at a terminal, or read from the first line of standard input when that is not a terminal
(``… < password-file``); it must pass the password rules (AUTH_PASSWORD_VALIDATORS) and is never
an argument, so it stays out of the shell history and the process list. Roles with a second
factor then need ``issue_enrolment_code``. ``seed_demo`` (development only) is not for this.
"""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from consentoffice.accounts import twofactor, users
from consentoffice.core import roles


class Command(BaseCommand):
    help = _(
        "業務用のユーザーを1人、ロールを付けて作成します（本番環境でも使えます）。"
        "パスワードは端末で2回入力するか、標準入力の1行目から読みます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=roles.ROLES)
        parser.add_argument("--last-name", default="", help=_("姓"))
        parser.add_argument("--first-name", default="", help=_("名"))

    def handle(self, *args, username: str, role: str, last_name: str, first_name: str, **options):
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(_("このユーザー名はすでに使われています。"))
        password = self._password()
        try:
            user = users.create_staff_user(
                username=username, role=role, password=password, last_name=last_name, first_name=first_name
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _("ユーザー %(username)s（%(role)s）を作成しました。") % {"username": username, "role": role}
        )
        if twofactor.needs_otp(user):
            self.stdout.write(
                _("このロールは二段階認証が必要です。次に登録コードを発行してください: %(command)s")
                % {"command": f"manage.py issue_enrolment_code {username}"}
            )

    def _password(self) -> str:
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\r\n")
        first = getpass.getpass(_("パスワード: "))
        if getpass.getpass(_("パスワード（確認）: ")) != first:
            raise CommandError(_("2回入力したパスワードが一致しません。"))
        return first
