"""How a person (a user of the back-office) is named on every page: 姓 名, family name first.

``display_name`` is the one answer; ``install`` makes it the user model's ``str()``, so every place
that prints a user (history's 作成者/変更者, a ticket's assignee, preparer and approver, the admin's
foreign keys, notices) names people the same way. The system and affiliate principals carry their
Japanese name (システム, 提携先 …) in ``first_name`` (``consentoffice.core.history``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

SYSTEM_USERNAME = "system"

# The user's fields ``display_name`` reads: a list that loads only some of a user's columns
# (``requests.selectors.ROW_FIELDS``) loads these.
NAME_FIELDS = ("last_name", "first_name", "username")


def display_name(user) -> str:
    """山本 直子: family name, a space, given name; the login name only when no name is held."""
    if user is None:
        return ""
    name = f"{user.last_name} {user.first_name}".strip()
    if name:
        return name
    if user.get_username() == SYSTEM_USERNAME:
        return _("システム")
    return user.get_username()


def install(user_model) -> None:
    """The user model's ``str()`` (and Django's full name) become ``display_name``."""
    user_model.__str__ = display_name
    user_model.get_full_name = display_name
