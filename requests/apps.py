from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class RequestsConfig(AppConfig):
    """Information-center tickets (インフォメーションセンター受付). Not the PyPI ``requests``: use httpx."""

    name = "requests"
    verbose_name = pgettext_lazy("app", "開示等の請求・問い合わせ")
