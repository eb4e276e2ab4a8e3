#!/usr/bin/env bash
# Back up everything a restore needs, encrypted to the backup key (docs/operations.md, Backup and
# restore):  deploy/backup.sh DEST
#
# Writes DEST/consentoffice-<UTC time>/ with
#   anchors.log.gpg    AUDIT_ANCHOR_FILE, copied FIRST: a head anchored after the dump was taken
#                      would make the restored chain look truncated to verify_audit
#   database.dump.gpg  pg_dump -Fc of DATABASE_URL (one consistent snapshot)
#   private.tar.gpg    PRIVATE_STORAGE_ROOT (disclosure packages, bureau files), taken after the
#                      dump so every file the dump refers to is in it
#   SHA256SUMS         of the three encrypted parts
# Each part is encrypted with gpg to BACKUP_GPG_RECIPIENT, the public half of the backup key: this
# host can write backups but not read them. The keys themselves (FIELD_ENCRYPTION_KEYS,
# AUDIT_SEAL_KEY, DJANGO_SECRET_KEY) and the backup key's private half are never read here: they
# are kept in the key escrow, apart from the backups.
#
# Environment: DATABASE_URL, PRIVATE_STORAGE_ROOT, AUDIT_ANCHOR_FILE, BACKUP_GPG_RECIPIENT
# (GNUPGHOME to use another keyring). Exits non-zero, leaving no backup directory, on any failure.
set -euo pipefail

usage() {
  echo "usage: $0 DEST" >&2
  exit 2
}
[ $# -eq 1 ] || usage
dest=$1

for name in DATABASE_URL PRIVATE_STORAGE_ROOT AUDIT_ANCHOR_FILE BACKUP_GPG_RECIPIENT; do
  if [ -z "${!name:-}" ]; then
    echo "backup: $name is not set" >&2
    exit 2
  fi
done
if [ ! -d "$PRIVATE_STORAGE_ROOT" ]; then
  echo "backup: PRIVATE_STORAGE_ROOT is not a directory" >&2
  exit 1
fi
if [ ! -f "$AUDIT_ANCHOR_FILE" ]; then
  # No seal run has written one yet (a new installation): back up an empty file, so the restore
  # still finds every part.
  echo "backup: warning: AUDIT_ANCHOR_FILE does not exist yet; backing up an empty one" >&2
fi

umask 077
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$dest/consentoffice-$stamp"
work="$dest/.consentoffice-$stamp.partial"
mkdir -p "$dest"
mkdir "$work"
trap 'rm -rf "$work"' EXIT

encrypt() {
  gpg --batch --yes --quiet --trust-model always --encrypt --recipient "$BACKUP_GPG_RECIPIENT" --output "$1"
}

if [ -f "$AUDIT_ANCHOR_FILE" ]; then
  encrypt "$work/anchors.log.gpg" <"$AUDIT_ANCHOR_FILE"
else
  encrypt "$work/anchors.log.gpg" </dev/null
fi
pg_dump --dbname="$DATABASE_URL" --format=custom --no-owner | encrypt "$work/database.dump.gpg"
tar -C "$PRIVATE_STORAGE_ROOT" -cf - . | encrypt "$work/private.tar.gpg"
(cd "$work" && sha256sum anchors.log.gpg database.dump.gpg private.tar.gpg >SHA256SUMS)

mv "$work" "$final"
trap - EXIT
echo "$final"
