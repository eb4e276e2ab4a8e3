"""``manage.py bench``: performance figures of the product on the data set it finds.

Nothing here seeds data for good: every case runs inside a transaction that is rolled back, and
files a case writes are removed afterwards. Pages go through ``django.test.Client`` logged in as
real role users; the member list and searches are also measured on an untuned admin (``plain``).
How to run it and the figures: BENCHMARKS.md.
"""

from consentoffice.devtools.bench.children import bureau_child, extract_child
from consentoffice.devtools.bench.client import Context, heaviest_member, logged_in, role_user, typical_member
from consentoffice.devtools.bench.jobs import (
    FAKE_AFFILIATE,
    HEAVY_CASES,
    case_bureau_batch,
    case_disclosure,
    case_marketing_extract,
    case_partner_sync,
    case_reminders,
    start_fake_affiliate,
)
from consentoffice.devtools.bench.pages import (
    PAGE_CASES,
    case_pages,
    measure_page,
    page_row,
    search_terms,
    url_exists,
)
from consentoffice.devtools.bench.plain import BENCH_URLCONF, PLAIN_SITE, PlainMemberAdmin
from consentoffice.devtools.bench.report import (
    BUREAU_PEAK_MB,
    BUREAU_RECORDS,
    BUREAU_SECONDS,
    DISCLOSURE_MS,
    EXTRACT_MEMBERS,
    EXTRACT_PEAK_MB,
    EXTRACT_SECONDS,
    HEADER,
    LIST_SPEEDUP,
    PAGE_MAX_QUERIES,
    PAGE_P95_MS,
    PARTNER_EVENTS_PER_SECOND,
    REMINDER_OPEN_TICKETS,
    REMINDER_SECONDS,
    SEARCH_P95_MS,
    Row,
    data_set_summary,
    format_row,
    format_table,
    percentile,
)
from consentoffice.devtools.bench.runner import ALL_CASES, run

__all__ = [
    "ALL_CASES",
    "BENCH_URLCONF",
    "BUREAU_PEAK_MB",
    "BUREAU_RECORDS",
    "BUREAU_SECONDS",
    "Context",
    "DISCLOSURE_MS",
    "EXTRACT_MEMBERS",
    "EXTRACT_PEAK_MB",
    "EXTRACT_SECONDS",
    "FAKE_AFFILIATE",
    "HEADER",
    "HEAVY_CASES",
    "LIST_SPEEDUP",
    "PAGE_CASES",
    "PAGE_MAX_QUERIES",
    "PAGE_P95_MS",
    "PARTNER_EVENTS_PER_SECOND",
    "PLAIN_SITE",
    "PlainMemberAdmin",
    "REMINDER_OPEN_TICKETS",
    "REMINDER_SECONDS",
    "Row",
    "SEARCH_P95_MS",
    "bureau_child",
    "case_bureau_batch",
    "case_disclosure",
    "case_marketing_extract",
    "case_pages",
    "case_partner_sync",
    "case_reminders",
    "data_set_summary",
    "extract_child",
    "format_row",
    "format_table",
    "heaviest_member",
    "logged_in",
    "measure_page",
    "page_row",
    "percentile",
    "role_user",
    "run",
    "search_terms",
    "start_fake_affiliate",
    "typical_member",
    "url_exists",
]
