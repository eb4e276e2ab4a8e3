"""The history every tracked model keeps: simple-history's ``HistoricalRecords`` with only the
indexes the audit trail reads.

simple-history indexes every foreign key, every unique column and the history user of a history
table. The audit reads a history table through the composite indexes of consentoffice migrations
0005 and 0011 — (history user, date, id), (the member's column, date, id), (date, id) — and an
object's own history by its id; the single-column indexes beside them were never scanned and took
about 1 KB per member at a million members (BENCHMARKS.md, Storage). ``AuditedHistory`` keeps the
index on the object's id and the date (the unfiltered ``/audit/`` page reads each table newest
first) and leaves the others out; ``date_index=False`` where the (date, id) index covers the date,
``object_index=False`` where an audit index leads with the object's id or nothing reads an object's
history by its id.
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords


class AuditedHistory(HistoricalRecords):
    def __init__(self, *args, date_index: bool = True, object_index: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.date_index = date_index
        self.object_index = object_index

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name or not self.object_index:
                field.db_index = False
        return fields

    def _get_history_user_fields(self):
        fields = super()._get_history_user_fields()
        user = fields.get("history_user")
        if isinstance(user, models.ForeignKey):
            user.db_index = False
        return fields

    def get_extra_fields(self, model, fields):
        extra = super().get_extra_fields(model, fields)
        if not self.date_index:
            extra["history_date"].db_index = False
        return extra
