"""The inbound side of partner sync (Art. 10): ``POST /partners/<code>/member-changes``."""

from __future__ import annotations

import secrets

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from members import partner_sync
from members.models import Affiliate


class _NoAffiliate:
    """Stands in for an unknown code: a secret nobody knows, drawn anew for every request."""

    def __init__(self):
        self.shared_secret = secrets.token_hex(32)


@csrf_exempt
@require_POST
def member_changes(request, code: str):
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not (declared.isascii() and declared.isdigit()) or int(declared) > partner_sync.MAX_BODY_BYTES:
        return JsonResponse({"error": "too_large"}, status=413)
    affiliate = Affiliate.objects.filter(code=code, active=True).first()
    if affiliate is None:
        # Answered exactly as a known affiliate with a wrong signature is (same checks, same
        # order, same 401 bodies): the endpoint does not tell which codes exist.
        try:
            partner_sync.verify_signature(
                _NoAffiliate(),
                timestamp=request.headers.get(partner_sync.TIMESTAMP_HEADER),
                signature=request.headers.get(partner_sync.SIGNATURE_HEADER),
                body=request.body,
            )
        except partner_sync.InboundError as exc:
            return JsonResponse({"error": exc.code}, status=exc.status)
        return JsonResponse({"error": "bad_signature"}, status=401)
    try:
        member = partner_sync.apply_inbound(
            affiliate,
            body=request.body,
            timestamp=request.headers.get(partner_sync.TIMESTAMP_HEADER),
            signature=request.headers.get(partner_sync.SIGNATURE_HEADER),
        )
    except partner_sync.InboundError as exc:
        return JsonResponse({"error": exc.code}, status=exc.status)
    return JsonResponse({"status": "applied", "member_no": member.member_no})
