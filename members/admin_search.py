"""The admin's search boxes that take a member number: the term is read as the number is stored."""

from __future__ import annotations

from members import normalize


class MemberNoSearchMixin:
    """For a ``ModelAdmin`` whose ``search_fields`` hold ``=member__member_no``: a number typed in
    full width or with hyphens and spaces (１０００-０００-００１) is searched as its ten ASCII digits
    (``normalize.member_no_key``); any other term is searched as typed."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, normalize.member_no_key(search_term))
