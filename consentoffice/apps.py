from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import pgettext_lazy


class ConsentofficeConfig(AppConfig):
    name = "consentoffice"
    verbose_name = pgettext_lazy("app", "コンセントオフィス共通")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from consentoffice.core import people
        from consentoffice.core.roles import sync_role_permissions

        # People are named one way on every page: 姓 名 (consentoffice.core.people).
        people.install(get_user_model())

        # Permissions are created per app after migrate; the role table is applied after each
        # app's so every group ends up matching consentoffice.core.roles exactly.
        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_role_permissions")
