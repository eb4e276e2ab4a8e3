"""The language of the back-office: Japanese unless the operator chose another one.

Django's LocaleMiddleware would also follow the browser's Accept-Language, so an operator whose
browser happens to be set to English would see the back-office switch language without asking,
while letters, dates and the center's procedures stay Japanese. Here only the choice made with
the header's language selector (``set_language``, stored in the language cookie) counts.
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.functional import Promise


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = translation.get_supported_language_variant(chosen) if chosen else None
        except LookupError:
            language = None
        translation.activate(language or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()


def record_text(message: str, **params) -> str:
    """A text the records keep — a history row's reason, a notification's title — in the center's
    language (``settings.LANGUAGE_CODE``), whichever language the operator's screen is in, so the
    audit trail reads the same for everyone and a search of it finds every row. ``message`` is a
    msgid (``makemessages`` collects ``record_text`` calls: ``consentoffice/management/commands/
    makemessages.py``); ``params`` are rendered in the same language (a choice label, say)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = translation.gettext(message)
        if not params:
            return text
        return text % {
            key: str(value) if isinstance(value, Promise) else value for key, value in params.items()
        }
