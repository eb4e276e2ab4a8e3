"""The rows a load points at: bulk users per role, affiliates, purposes, the consent version,
bureaus."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from consentoffice.core import roles
from consentoffice.core.history import save_tracked
from consentoffice.devtools.bulk.tables import REASON
from members.demo import NAME_AND_CONTACT_ITEMS
from members.models import Affiliate, AffiliateBasis, ConsentVersion, Purpose

BULK_OPERATORS = 20
BULK_SUPERVISORS = 3
BULK_AFFILIATES = (
    ("bulk-aurora", "オーロラ百貨店", "オーロラ百貨店カード", AffiliateBasis.CONSENT),
    ("bulk-kaze-rail", "かぜ鉄道", "かぜ鉄道ポイントカード", AffiliateBasis.JOINT_USE),
)
AFFILIATE_SHARED_ITEMS = list(NAME_AND_CONTACT_ITEMS)


@dataclass
class Reference:
    """Rows the load points at: users, affiliates, purposes, the consent version, bureaus."""

    operators: list[int]
    supervisors: list[int]
    affiliates: list[tuple[int, str]]
    purposes: dict[str, int]
    version_id: int
    bureaus: dict[str, int]


def ensure_reference_rows() -> Reference:
    """Bulk users per role (no usable password: the bench logs them in directly) and affiliates."""
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}

    def user(username: str, role: str, last: str, first: str) -> int:
        found = User.objects.filter(username=username).first()
        if found is None:
            found = User(username=username, is_staff=True, last_name=last, first_name=first)
            found.set_unusable_password()
            found.save()
            found.groups.add(groups[role])
        return found.pk

    operators = [
        user(f"bulk-operator-{n:02d}", roles.OPERATOR, "一括", f"オペレーター{n}")
        for n in range(1, BULK_OPERATORS + 1)
    ]
    supervisors = [
        user(f"bulk-supervisor-{n}", roles.SUPERVISOR, "一括", f"スーパーバイザー{n}")
        for n in range(1, BULK_SUPERVISORS + 1)
    ]
    user("bulk-privacy-officer", roles.PRIVACY_OFFICER, "一括", "管理者")
    actor = User.objects.get(pk=supervisors[0])
    affiliates = []
    for code, name, product, basis in BULK_AFFILIATES:
        affiliate = Affiliate.objects.filter(code=code).first()
        if affiliate is None:
            affiliate = save_tracked(
                Affiliate(
                    code=code,
                    name=name,
                    endpoint="http://127.0.0.1:9/",
                    shared_secret=f"bulk-secret-{code}",
                    basis=basis,
                    shared_items=AFFILIATE_SHARED_ITEMS,
                    active=True,
                ),
                actor=actor,
                reason=REASON,
            )
        affiliates.append((affiliate.pk, product))
    version = (
        ConsentVersion.objects.filter(published_at__isnull=False).order_by("-effective_from", "-id").first()
    )
    from bureaus.models import Bureau

    return Reference(
        operators=operators,
        supervisors=supervisors,
        affiliates=affiliates,
        purposes=dict(Purpose.objects.values_list("code", "pk")),
        version_id=version.pk,
        bureaus=dict(Bureau.objects.values_list("code", "pk")),
    )
