"""Staff-only downloads of what goes to the requester (every download is logged), and the postal
code look-up behind the address correction form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from members.models import AccessAction
from members.services import record_access
from requests import disclosure, letters, postal, selectors
from requests.disclosure import PRIVATE_STORAGE
from requests.models import DisclosurePackage, Ticket


@require_GET
@login_required
@permission_required("requests.view_ticket", raise_exception=True)
def download_package(request, pk: int):
    package = get_object_or_404(DisclosurePackage.objects.select_related("ticket", "ticket__member"), pk=pk)
    ticket = package.ticket
    if not selectors.may_open_package(ticket, request.user):
        raise PermissionDenied
    storage = storages[PRIVATE_STORAGE]
    if not storage.exists(package.file):
        # Erased with the member's data (clause Art. 7) or after delivery; the row keeps the
        # manifest and SHA-256.
        return HttpResponse(gettext("この開示パッケージのファイルは削除済みです。"), status=410)
    detail = f"disclosure package {ticket.number}"
    # Every value in clear: a sensitive view of the member as well as a download.
    record_access(
        user=request.user,
        action=AccessAction.VIEW_SENSITIVE,
        member=ticket.member,
        request=request,
        detail=detail,
    )
    record_access(
        user=request.user, action=AccessAction.DOWNLOAD, member=ticket.member, request=request, detail=detail
    )
    response = StreamingHttpResponse(disclosure.open_package(package.file), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{ticket.number}-disclosure.zip"'
    response["Content-Length"] = str(package.size)
    response["Cache-Control"] = "no-store, private"
    return response


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


@require_GET
@login_required
@permission_required("requests.view_ticket", raise_exception=True)
def postal_code(request, code: str):
    """The prefecture and city of a postal code, for the address form's script
    (``static/requests/address_correction.js``): public reference data, nothing of a member's."""
    found = postal.lookup(code)
    if found is None:
        return JsonResponse({"found": False})
    prefecture, city = found
    return JsonResponse({"found": True, "prefecture": prefecture, "city": city})
