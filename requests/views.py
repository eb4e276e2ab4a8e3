"""Staff-only downloads of what goes to the requester; every download is logged."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.files.storage import storages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from members.models import AccessAction
from members.services import record_access
from requests import letters
from requests.disclosure import PRIVATE_STORAGE
from requests.models import DisclosurePackage, Ticket


@require_GET
@login_required
@permission_required("requests.view_ticket", raise_exception=True)
def download_package(request, pk: int):
    package = get_object_or_404(DisclosurePackage.objects.select_related("ticket"), pk=pk)
    storage = storages[PRIVATE_STORAGE]
    if not storage.exists(package.file):
        # Erased with the member's data (clause Art. 7); the row keeps the manifest and SHA-256.
        return HttpResponse(gettext("この開示パッケージのファイルは削除済みです。"), status=410)
    record_access(
        user=request.user,
        action=AccessAction.DOWNLOAD,
        member=package.ticket.member,
        request=request,
        detail=f"disclosure package {package.ticket.number}",
    )
    stream = storage.open(package.file, "rb")
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"{package.ticket.number}-disclosure.zip",
        content_type="application/zip",
    )


@require_GET
@login_required
@permission_required("requests.view_ticket", raise_exception=True)
def reply_letter(request, pk: int):
    ticket = get_object_or_404(Ticket.objects.select_related("member"), pk=pk)
    record_access(
        user=request.user,
        action=AccessAction.DOWNLOAD,
        member=ticket.member,
        request=request,
        detail=f"reply letter {ticket.number}",
    )
    response = HttpResponse(letters.reply_letter(ticket), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letters.reply_letter_filename(ticket)}"'
    return response
