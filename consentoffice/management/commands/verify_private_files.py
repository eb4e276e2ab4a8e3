"""``manage.py verify_private_files``: every file the database refers to in the private storage is
there and is the file that was written (the check after a restore, docs/operations.md).

A disclosure package file is decrypted with FIELD_ENCRYPTION_KEYS and its plaintext compared with
the SHA-256 on its row; a bureau registration file (written as sent) is compared as it is. A
package file deleted after its keeping period is no fault, only counted; any other missing,
unreadable or different file is printed by table and id, and the command exits with status 1. Names of members never appear: only ids and storage paths.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError

from consentoffice.core import crypto


def _sha256(chunks) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Check that every disclosure package and bureau file in the private storage is present and intact."

    def handle(self, *args, **options):
        from bureaus.models import SubmissionBatch
        from requests.disclosure import PRIVATE_STORAGE, package_keep_cutoff
        from requests.models import DisclosurePackage

        storage = storages[PRIVATE_STORAGE]
        purge_before = package_keep_cutoff()
        checked = purged = 0
        problems: list[str] = []

        packages = DisclosurePackage.objects.exclude(file="").order_by("pk")
        for pk, name, expected, delivered_at in packages.values_list("pk", "file", "sha256", "delivered_at"):
            if not storage.exists(name):
                if delivered_at is not None and delivered_at < purge_before:
                    purged += 1
                else:
                    problems.append(f"missing: disclosure package id={pk} {name}")
                continue
            try:
                with storage.open(name, "rb") as stream:
                    actual = _sha256(crypto.decrypt_stream(stream))
            except ImproperlyConfigured:
                problems.append(f"cannot decrypt: disclosure package id={pk} {name}")
                continue
            checked += 1
            if actual != expected:
                problems.append(f"different: disclosure package id={pk} {name}")

        batches = SubmissionBatch.objects.exclude(file_name="").order_by("pk")
        for pk, name, expected in batches.values_list("pk", "file_name", "sha256"):
            if not storage.exists(name):
                problems.append(f"missing: bureau file id={pk} {name}")
                continue
            with storage.open(name, "rb") as stream:
                actual = _sha256(iter(lambda stream=stream: stream.read(1024 * 1024), b""))
            checked += 1
            if expected and actual != expected:
                problems.append(f"different: bureau file id={pk} {name}")

        summary = f"files={checked} purged={purged} problems={len(problems)}"
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"private storage incomplete: {summary}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"OK {summary}"))
