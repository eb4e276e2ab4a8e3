"""The permission look-up every page makes, in one prepared statement instead of two ORM queries.

Django's ``ModelBackend`` builds a user's permission set from two queries (the user's own
permissions, then their groups'), each joining the content types, and every page asks for it at
least once (the view's permission check, the header's links): building those two querysets cost
more than running them. Here one statement, written once from the models' tables, returns both;
the set, its cache on the user object for the rest of the request and everything else about the
backend (passwords, active users, superusers) are Django's.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


@cache
def _permissions_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    user_perms = get_user_model().user_permissions.through._meta
    group_perms = Group.permissions.through._meta
    user_groups = get_user_model().groups.through._meta
    user_model = get_user_model()._meta.model_name

    def column(meta, name):
        return quote(meta.get_field(name).column)

    return (
        f"SELECT ct.{quote('app_label')}, p.{quote('codename')} "
        f"FROM {quote(Permission._meta.db_table)} p "
        f"JOIN {quote(ContentType._meta.db_table)} ct ON ct.{quote('id')} = p.{quote('content_type_id')} "
        f"WHERE p.{quote('id')} IN (SELECT {column(user_perms, 'permission')} "
        f"FROM {quote(user_perms.db_table)} WHERE {column(user_perms, user_model)} = %s) "
        f"OR p.{quote('id')} IN (SELECT gp.{column(group_perms, 'permission')} "
        f"FROM {quote(group_perms.db_table)} gp JOIN {quote(user_groups.db_table)} ug "
        f"ON ug.{column(user_groups, 'group')} = gp.{column(group_perms, 'group')} "
        f"WHERE ug.{column(user_groups, user_model)} = %s)"
    )


class ModelBackendOneQuery(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser or hasattr(user_obj, "_perm_cache"):
            return super().get_all_permissions(user_obj, obj)
        alias = router.db_for_read(Permission)
        with connections[alias].cursor() as cursor:
            cursor.execute(_permissions_sql(alias), [user_obj.pk] * 2)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        return user_obj._perm_cache
