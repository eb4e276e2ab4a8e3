"""An affiliate's endpoint and secret (issue 14): https:// to public addresses only, checked when
saved and again when sending; the secret issued by the system and never shown again, to anyone."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consentoffice.audit.selectors import history_diff, tracked_by_label
from members import endpoints, partner_sync, services
from members.models import Affiliate, PartnerSyncEvent, SyncStatus
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.fake_affiliate import FakeAffiliate, tls_files


@pytest.fixture
def production_rules(settings):
    settings.PARTNER_ENDPOINT_ALLOW_HTTP = False
    settings.PARTNER_ENDPOINT_ALLOW_PRIVATE = False


REFUSED = [
    "http://8.8.8.8/",  # plain http
    "https://127.0.0.1:6379/",
    "https://[::1]/",
    "https://10.1.2.3/",
    "https://192.168.0.10/",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[::ffff:127.0.0.1]/",
    "https://0.0.0.0/",
    "https://user:pw@8.8.8.8/",
    "ftp://8.8.8.8/",
    "https://no-such-host.invalid/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_an_endpoint_that_is_not_public_https_is_refused_on_save(db, supervisor, production_rules, url):
    with pytest.raises(ValidationError) as exc:
        services.save_affiliate(actor=supervisor, code="bad", name="悪い提携先", endpoint=url)
    assert exc.value.message_dict["endpoint"]
    assert not Affiliate.objects.exists()


def test_a_public_https_endpoint_is_accepted(db, supervisor, production_rules):
    affiliate = services.save_affiliate(
        actor=supervisor, code="ok", name="提携先", endpoint="https://8.8.8.8/"
    )
    assert affiliate.pk and len(affiliate.issued_secret) >= 43


def test_a_name_resolving_to_a_private_address_is_refused(db, supervisor, production_rules, monkeypatch):
    # The resolver answers as a hostile DNS would: a public-looking name for the metadata address.
    monkeypatch.setattr(
        endpoints, "resolve", lambda host, port: [__import__("ipaddress").ip_address("169.254.169.254")]
    )
    with pytest.raises(ValidationError):
        services.save_affiliate(
            actor=supervisor, code="dns", name="提携先", endpoint="https://partner.example.jp/"
        )


def test_the_endpoint_is_checked_again_when_sending(db, operator, production_rules):
    """Saved when it was fine (or written before the rule): the event goes dead, nothing is sent."""
    affiliate = AffiliateFactory(endpoint="https://127.0.0.1:6379/")
    member = MemberFactory()
    ContractFactory(member=member, affiliate=affiliate)
    services.update_member(member, actor=operator, reason="住所変更", city="港区")
    result = partner_sync.deliver_due_events()
    assert (result.sent, result.dead) == (0, 1)
    event = PartnerSyncEvent.objects.get()
    assert (event.status, event.last_error) == (SyncStatus.DEAD, "endpoint refused")


# --- a private line to affiliates (production: PARTNER_ENDPOINT_PRIVATE_NETWORKS) ---------------


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://10.20.3.4/", True),
        ("https://10.20.3.4:8443/sync", True),
        ("http://10.20.3.4/", False),  # https stays mandatory on the private line
        ("https://10.21.0.1/", False),  # another private network
        ("https://127.0.0.1/", False),
        ("https://169.254.169.254/", False),
        ("https://8.8.8.8/", True),  # public addresses as before
    ],
)
def test_the_networks_of_the_private_line_are_accepted_over_https_only(
    db, supervisor, production_rules, settings, url, accepted
):
    settings.PARTNER_ENDPOINT_PRIVATE_NETWORKS = ["10.20.0.0/16"]
    if accepted:
        endpoints.check_endpoint(url)
    else:
        with pytest.raises(ValidationError):
            endpoints.check_endpoint(url)


def test_the_affiliates_certificate_is_checked_against_the_configured_ca(
    db, operator, production_rules, settings, tmp_path
):
    """Without the CA of the private line the certificate is refused (retried, nothing accepted by
    the affiliate); with PARTNER_ENDPOINT_CA_BUNDLE the same event is delivered."""
    settings.PARTNER_ENDPOINT_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 0.0
    tls = tls_files(tmp_path)
    with FakeAffiliate("secret-of-the-line", tls=tls) as fake:
        affiliate = AffiliateFactory(endpoint=fake.url, shared_secret="secret-of-the-line")
        member = MemberFactory()
        ContractFactory(member=member, affiliate=affiliate)
        services.update_member(member, actor=operator, reason="住所変更", city="港区")

        refused = partner_sync.deliver_due_events()
        event = PartnerSyncEvent.objects.get()
        assert (refused.sent, refused.retried) == (0, 1)
        assert event.last_error == "transport error: ConnectError" and fake.received == []

        settings.PARTNER_ENDPOINT_CA_BUNDLE = str(tls.ca_file)
        PartnerSyncEvent.objects.filter(pk=event.pk).update(next_attempt_at=event.occurred_at)
        delivered = partner_sync.deliver_due_events()
    assert delivered.sent == 1
    assert fake.event_ids() == [str(event.event_id)] and fake.bad_signatures == 0


def test_a_secret_cannot_be_typed_in(db, supervisor):
    with pytest.raises(ValidationError):
        services.save_affiliate(
            actor=supervisor, code="x", name="提携先", endpoint="https://8.8.8.8/", shared_secret="a"
        )


def test_the_secret_is_masked_in_the_audit_diff_even_for_the_privacy_officer(db, privacy_officer, supervisor):
    affiliate = services.save_affiliate(
        actor=supervisor, code="x", name="提携先", endpoint="https://8.8.8.8/"
    )
    services.rotate_affiliate_secret(affiliate, actor=supervisor, reason="定期交換")
    row = affiliate.history.order_by("-history_id").first()
    diff = history_diff(tracked_by_label("members.affiliate"), row.history_id, viewer=privacy_officer)
    secret_change = next(change for change in diff.changes if change.name == "shared_secret")
    assert secret_change.before == secret_change.after == "****"
    assert affiliate.shared_secret not in str(diff.changes)


def test_the_audit_page_never_shows_the_secret(client, privacy_officer, supervisor):
    affiliate = services.save_affiliate(
        actor=supervisor, code="x", name="提携先", endpoint="https://8.8.8.8/"
    )
    row = affiliate.history.get()
    client.force_login(privacy_officer)
    page = client.get(reverse("audit:history_detail", args=["members.affiliate", row.history_id]))
    assert page.status_code == 200
    assert Affiliate.objects.get().shared_secret not in page.content.decode()
