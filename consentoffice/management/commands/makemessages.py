"""Django's ``makemessages`` that also collects ``consentoffice.core.i18n.record_text("…")`` calls."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=record_text"]
