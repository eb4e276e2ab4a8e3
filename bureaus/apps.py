from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class BureausConfig(AppConfig):
    name = "bureaus"
    verbose_name = pgettext_lazy("app", "個人信用情報機関")

    def ready(self) -> None:
        from bureaus.erasure import erase_bureau_snapshots
        from members import keeping

        keeping.register_eraser("bureaus", erase_bureau_snapshots)
