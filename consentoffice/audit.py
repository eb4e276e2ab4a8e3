"""Audit helpers shared by every app's services: who acted and why, on every history row."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import models

SYSTEM_USERNAME = "system"


def system_user():
    """The user that scheduled tasks act as, so every history row names an actor.

    It cannot log in (unusable password) and holds every permission so tasks may call services.
    """
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": True, "is_staff": False, "is_superuser": True, "first_name": "システム"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


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
    """The actor for changes an affiliate sends in (Art. 10), so history names the affiliate."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=f"affiliate-{code}"[:150],
        defaults={"is_active": True, "is_staff": False, "is_superuser": True, "first_name": f"提携先 {code}"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
