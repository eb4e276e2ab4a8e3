"""Back-office logins: one function creates a staff user with one role, for every path that makes
one (``manage.py create_staff_user`` in production, the demo data in development)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction


def create_staff_user(*, username: str, role: str, password: str, last_name: str = "", first_name: str = ""):
    """A new staff user holding ``role``; the password must pass AUTH_PASSWORD_VALIDATORS and the
    fields the model's validation (``ValidationError`` otherwise, nothing saved). Returned fresh
    from the database, so its permission cache knows the role."""
    User = get_user_model()
    user = User(username=username, last_name=last_name, first_name=first_name, is_staff=True)
    validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.full_clean(exclude=["password"])
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)
