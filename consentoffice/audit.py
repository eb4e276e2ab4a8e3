"""Audit helpers shared by every app's services: who acted and why, on every history row."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models
from django.utils import timezone

SYSTEM_USERNAME = "system"


def _principal(username: str, group_name: str, first_name: str):
    """A user that is not a person: it cannot log in (unusable password) and holds only its
    group's permissions (``consentoffice.roles.PRINCIPAL_PERMISSIONS``), never ``is_superuser``."""
    from consentoffice.roles import principal_group

    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"is_active": True, "is_staff": False, "is_superuser": False, "first_name": first_name},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(principal_group(group_name))
    return user


def system_user():
    """The user that scheduled tasks act as, so every history row names an actor (group ``system``)."""
    from consentoffice.roles import SYSTEM

    return _principal(SYSTEM_USERNAME, SYSTEM, "システム")


def save_tracked(
    obj: models.Model, *, actor, reason: str, update_fields: list[str] | None = None, clean: bool = True
) -> models.Model:
    """Validate and save a tracked model so its history row carries the actor and the reason."""
    if clean:
        obj.full_clean()
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(update_fields=update_fields)
    return obj


def affiliate_user(code: str):
    """The actor for changes an affiliate sends in (Art. 10), so history names the affiliate
    (group ``affiliate``: it may change members, nothing else)."""
    from consentoffice.roles import AFFILIATE

    return _principal(f"affiliate-{code}"[:150], AFFILIATE, f"提携先 {code}")


# --- Set-based history rows (bulk writes keep their audit trail) ---------------------------


def history_select(
    model: type[models.Model],
    db,
    *,
    actor,
    reason: str,
    history_type: str,
    at: datetime,
    named: bool = False,
    history_model: type[models.Model] | None = None,
):
    """Column list, SELECT list (over an alias ``source`` of ``model``'s columns) and parameters
    that make one simple-history row of ``model`` per source row. With ``named`` the parameters are
    a dict (``%(history_…)s`` placeholders) for statements that name their other parameters.
    ``history_model`` is for a data migration, whose models have no ``history`` manager."""
    history = history_model or model.history.model
    own = {field.column for field in model._meta.concrete_fields}
    extra = {
        "history_date": at,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": actor.pk,
    }
    quote = db.ops.quote_name
    columns, values, params, named_params = [], [], [], {}
    for field in history._meta.concrete_fields:
        if field is history._meta.pk:
            if not isinstance(field, models.AutoField):
                raise ImproperlyConfigured(f"{history._meta.label}: history ids must come from the database")
            continue
        if field.column in extra:
            values.append(f"%({field.column})s" if named else "%s")
            params.append(extra[field.column])
            named_params[field.column] = extra[field.column]
        elif field.column in own:
            values.append(f"source.{quote(field.column)}")
        else:
            raise ImproperlyConfigured(f"{history._meta.label}.{field.name} has no source column")
        columns.append(quote(field.column))
    return ", ".join(columns), ", ".join(values), named_params if named else params


def copy_to_history(
    rows: models.QuerySet,
    *,
    actor,
    reason: str,
    history_type: str = "~",
    at: datetime | None = None,
    history_model: type[models.Model] | None = None,
) -> int:
    """One simple-history row per row of ``rows`` (a queryset of a tracked model), copied by the
    database in one INSERT … SELECT: what ``bulk_update_with_history`` writes, without loading a
    single object. Returns the number of history rows."""
    model, db = rows.model, connections[rows.db]
    history_model = history_model or model.history.model
    columns, values, params = history_select(
        model,
        db,
        actor=actor,
        reason=reason,
        history_type=history_type,
        at=at or timezone.now(),
        history_model=history_model,
    )
    attnames = [field.attname for field in model._meta.concrete_fields]
    source, source_params = rows.order_by("pk").values(*attnames).query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {db.ops.quote_name(history_model._meta.db_table)} ({columns}) "
            f"SELECT {values} FROM ({source}) AS source",
            [*params, *source_params],
        )
        return cursor.rowcount
