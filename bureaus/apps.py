from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class BureausConfig(AppConfig):
    name = "bureaus"
    verbose_name = pgettext_lazy("app", "個人信用情報機関")
