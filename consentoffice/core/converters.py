"""URL converters shared by the project's pages."""

from collections.abc import Callable
from urllib.parse import quote, unquote

from django.urls import register_converter, reverse
from django.utils.http import RFC3986_SUBDELIMS


class MemberNumberConverter:
    """Any member number, also one typed before numbers had one format (``1/2``, ``<b>x</b>``):
    a slash travels as ``%2F`` so the pages of every member stay reachable."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        # Only what would end the path segment or be read as an escape; reverse() quotes the rest.
        return str(value).replace("%", "%25").replace("/", "%2F")


register_converter(MemberNumberConverter, "member_no")


def member_no_segment(value: str) -> str:
    """The member number as ``reverse()`` writes it in a URL, for pages that put many numbers into
    one reversed URL rather than reversing each (the member list)."""
    return quote(MemberNumberConverter().to_url(value), safe=RFC3986_SUBDELIMS + "/~:@")


_NO_MARK = "0000no0000"


def member_url_maker(name: str) -> Callable[[str], str]:
    """``reverse(name, args=[member_no])`` for the many numbers of one page: the URL is reversed
    once and each number put in its place (a ``reverse`` per row cost a list page a tenth of its time)."""
    url = reverse(name, args=[_NO_MARK])
    return lambda member_no: url.replace(_NO_MARK, member_no_segment(member_no))


_ID_MARK = "9090909090909"


def id_url_maker(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for the many rows of one page, as ``member_url_maker`` does
    for member numbers (an integer key is written as it is)."""
    url = reverse(name, args=[_ID_MARK])
    return lambda pk: url.replace(_ID_MARK, str(int(pk)))
