"""Two people acting on one ticket at the same moment: one wins, the other is told, effects apply once.

The threaded tests need PostgreSQL row locks (``select_for_update``); each thread has its own
connection (Django connections are per thread) and closes it at the end.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from members.models import Member
from requests import rules, services
from requests.models import Ticket
from tests.factories import MemberFactory
from tests.requests import verified_request

Kind, Status, Outcome = rules.Kind, rules.Status, rules.Outcome


def race(act, actor_ids: list[int], ticket_pk: int) -> list[object]:
    """Run ``act(ticket, actor)`` in one thread per actor, released together by a barrier."""
    barrier = threading.Barrier(len(actor_ids))
    results: list[object] = [None] * len(actor_ids)

    def run(index: int, actor_id: int) -> None:
        try:
            actor = get_user_model().objects.get(pk=actor_id)
            ticket = Ticket.objects.get(pk=ticket_pk)
            actor.get_all_permissions()  # loaded before the start line, so both act at once
            barrier.wait(timeout=10)
            results[index] = act(ticket, actor)
        except Exception as exc:  # the loser's error is the result under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, actor_id)) for i, actor_id in enumerate(actor_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def split(results: list[object]) -> tuple[list[Ticket], list[Exception]]:
    won = [r for r in results if isinstance(r, Ticket)]
    lost = [r for r in results if isinstance(r, Exception)]
    return won, lost


def prepared_correction(operator) -> tuple[Ticket, Member]:
    member = MemberFactory(city="中野区江原町")
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    item = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    services.decide_correction_item(item, actor=operator, accept=True)
    return ticket, member


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_supervisors_approving_at_once_close_the_ticket_once_and_correct_the_member_once(
    operator, supervisor, supervisor2
):
    ticket, member = prepared_correction(operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    history_before = member.history.count()

    results = race(
        lambda t, actor: services.approve(t, actor=actor), [supervisor.pk, supervisor2.pk], ticket.pk
    )

    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], ValidationError) and lost[0].code == "invalid_state"
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.approver_id in {supervisor.pk, supervisor2.pk}
    assert ticket.history.filter(history_change_reason__endswith="承認・完了").count() == 1
    assert member.history.count() == history_before + 1
    assert member.history.filter(history_change_reason__startswith=ticket.number).count() == 1
    assert Member.objects.get(pk=member.pk).city == "中野区江古田"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_operators_submitting_at_once_prepare_the_outcome_once(operator, operator2):
    ticket, _member = prepared_correction(operator)

    results = race(
        lambda t, actor: services.submit_for_approval(t, outcome=Outcome.FULFILLED, actor=actor),
        [operator.pk, operator2.pk],
        ticket.pk,
    )

    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], ValidationError) and lost[0].code == "invalid_state"
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL
    assert ticket.prepared_by_id == won[0].prepared_by_id
    assert ticket.history.filter(history_change_reason__contains="承認を依頼").count() == 1


def test_an_action_on_an_outdated_version_is_refused_as_stale(operator, supervisor):
    ticket, member = prepared_correction(operator)
    seen = ticket.version
    services.hold(ticket, actor=operator, reason="書類の到着待ち")
    services.resume(ticket, actor=operator)
    with pytest.raises(ValidationError) as exc:
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator, expected_version=seen)
    assert exc.value.code == "stale"
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS

    services.submit_for_approval(
        ticket, outcome=Outcome.FULFILLED, actor=operator, expected_version=ticket.version
    )
    with pytest.raises(ValidationError) as exc:
        services.approve(ticket, actor=supervisor, expected_version=ticket.version - 1)
    assert exc.value.code == "stale"
    assert Member.objects.get(pk=member.pk).city == "中野区江原町"
    services.approve(ticket, actor=supervisor, expected_version=ticket.version)
    assert ticket.status == Status.CLOSED


def test_every_action_raises_the_version(operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    assert ticket.version == 2  # opened at 1, verified
    services.hold(ticket, actor=operator, reason="手数料の入金待ち")
    services.resume(ticket, actor=operator)
    assert ticket.version == 4
