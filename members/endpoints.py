"""Where partner-sync events may be sent: an affiliate's endpoint is checked when it is saved and
again before every delivery (issue 14).

An endpoint must be ``https://`` (plain ``http://`` only where ``PARTNER_ENDPOINT_ALLOW_HTTP``
allows it, for development) and every address its host resolves to must be a public one: never
loopback, private, link-local (the cloud metadata address 169.254.169.254 among them), multicast,
reserved or unspecified, unless ``PARTNER_ENDPOINT_ALLOW_PRIVATE`` allows it (development, the
demo's local stubs, the test suite's fake affiliates). Production allows neither; it may name the
networks of its private lines to affiliates (``PARTNER_ENDPOINT_PRIVATE_NETWORKS``), whose
addresses are then accepted too — over ``https://`` still.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routed unicast address (``is_global`` excludes loopback, private, link-local,
    shared, reserved and unspecified ranges)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _on_private_line(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Inside one of the networks named in ``PARTNER_ENDPOINT_PRIVATE_NETWORKS``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in getattr(settings, "PARTNER_ENDPOINT_PRIVATE_NETWORKS", ())
    )


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` stands for (an address literal stands for itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def check_endpoint(url: str) -> None:
    """Raise ``ValidationError`` (Japanese, code ``endpoint_refused``) unless events may go to ``url``."""
    parts = urlsplit(url or "")
    allow_http = getattr(settings, "PARTNER_ENDPOINT_ALLOW_HTTP", False)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_http):
        raise ValidationError(_("連携先URLは https:// で始めてください。"), code="endpoint_refused")
    if not parts.hostname or parts.username or parts.password:
        raise ValidationError(_("連携先URLのホスト名を確認してください。"), code="endpoint_refused")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(
            _("連携先URLのポート番号を確認してください。"), code="endpoint_refused"
        ) from None
    if getattr(settings, "PARTNER_ENDPOINT_ALLOW_PRIVATE", False):
        return  # development: any address, the name need not resolve here
    addresses = resolve(parts.hostname, port)
    if not addresses:
        raise ValidationError(_("連携先URLのホスト名を解決できません。"), code="endpoint_refused")
    if not all(_public(address) or _on_private_line(address) for address in addresses):
        raise ValidationError(
            _(
                "連携先URLが社内・ループバック・リンクローカル等のアドレスを指しています。公開されたアドレスだけが使えます。"
            ),
            code="endpoint_refused",
        )
