from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class RequestsConfig(AppConfig):
    """Information-center tickets (インフォメーションセンター受付). Not the PyPI ``requests``: use httpx."""

    name = "requests"
    verbose_name = pgettext_lazy("app", "開示等の請求・問い合わせ")

    def ready(self) -> None:
        from members import keeping
        from requests import erasure

        keeping.register_hold_source("open_request", erasure.open_request_hold)
        keeping.register_eraser("requests", erasure.erase_request_traces)
