"""営業リスト抽出 (``/members/extract/``): the privacy officer's page for marketing and research lists.

GET with a purpose and a channel shows how many members the list would hold (one COUNT); the
download is a POST (CSRF-protected) that streams the CSV (``members.extracts``). Operators and
supervisors get 403; nothing is recorded for them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required, permission_required
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from consentoffice.core import roles
from members import extracts
from members.models import ExtractChannel, ExtractPurpose, MarketingExtract

RECENT = 10


class ExtractForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("利用目的"), choices=ExtractPurpose.choices)
    channel = forms.ChoiceField(label=gettext_lazy("連絡方法"), choices=ExtractChannel.choices)


def _page(request, form: ExtractForm, *, count: int | None = None, status: int = 200) -> TemplateResponse:
    channel = form.cleaned_data.get("channel") if form.is_bound and form.is_valid() else None
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,
        "title": _("営業リスト抽出"),
        "form": form,
        "count": count,
        "choice": form.cleaned_data if count is not None else None,
        "columns": extracts.header(channel) if channel else [],
        "recent": MarketingExtract.objects.select_related("user")[:RECENT],
    }
    return TemplateResponse(request, "members/extract.html", context, status=status)


@require_GET
@login_required
@permission_required(roles.EXTRACT_MARKETING, raise_exception=True)
def extract_page(request):
    form = ExtractForm(request.GET or None)
    count = None
    if form.is_bound and form.is_valid():
        count = extracts.count_extract(
            actor=request.user, purpose=form.cleaned_data["purpose"], channel=form.cleaned_data["channel"]
        )
    return _page(request, form, count=count)


@require_POST
@login_required
@permission_required(roles.EXTRACT_MARKETING, raise_exception=True)
def extract_download(request):
    form = ExtractForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    purpose, channel = form.cleaned_data["purpose"], form.cleaned_data["channel"]
    extract, logged = extracts.start_extract(
        actor=request.user, purpose=purpose, channel=channel, request=request
    )
    response = StreamingHttpResponse(
        extracts.stream_extract(extract, actor=request.user, logged=logged),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime(extract.started_at).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="extract-{purpose}-{channel}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
