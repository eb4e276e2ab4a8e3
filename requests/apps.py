from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    """Information-center tickets (インフォメーションセンター受付). Not the PyPI ``requests``: use httpx."""

    name = "requests"
    verbose_name = _("開示等の請求・問い合わせ")
