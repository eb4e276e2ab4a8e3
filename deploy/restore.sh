#!/usr/bin/env bash
# Restore a backup written by deploy/backup.sh into a NEW database and a new file storage, then
# check it (docs/operations.md, Backup and restore):  deploy/restore.sh BACKUP_DIR
#
# Environment, as the restored system will run:
#   DATABASE_URL          the database to create (refused if it exists: nothing is overwritten)
#   PRIVATE_STORAGE_ROOT  a directory that does not exist yet or is empty
#   AUDIT_ANCHOR_FILE     a file that does not exist yet
#   FIELD_ENCRYPTION_KEYS, AUDIT_SEAL_KEY, DJANGO_SECRET_KEY (and DJANGO_ENV etc.): from the key
#                         escrow, for the checks; the backup holds none of them
#   GNUPGHOME             a keyring holding the private half of the backup key (from the escrow)
#   PYTHON                the application's Python (default: .venv/bin/python beside deploy/)
#   RESTORE_TMPDIR        where the dump is decrypted for pg_restore (default: TMPDIR or /tmp)
#
# Steps: the checksums; createdb; pg_restore --no-owner; the files and the anchor file back;
# ANALYZE (a restore brings no planner statistics); then the checks, each of which must pass:
#   migrate --check, reencrypt_fields --dry-run (every encrypted value decrypts with the keys),
#   verify_private_files (every stored file present, decrypting, with its recorded SHA-256),
#   verify_audit (the sealed chain and the restored anchors; a sealed chain with no anchor fails).
set -euo pipefail

usage() {
  echo "usage: $0 BACKUP_DIR" >&2
  exit 2
}
[ $# -eq 1 ] || usage
backup=$1
app_dir=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$app_dir/.venv/bin/python}

fail() {
  echo "restore: $*" >&2
  exit 1
}

for name in DATABASE_URL PRIVATE_STORAGE_ROOT AUDIT_ANCHOR_FILE; do
  [ -n "${!name:-}" ] || fail "$name is not set"
done
[ -d "$backup" ] || fail "no backup directory $backup"
[ ! -e "$AUDIT_ANCHOR_FILE" ] || fail "AUDIT_ANCHOR_FILE exists already; restore next to it, never over it"
if [ -d "$PRIVATE_STORAGE_ROOT" ] && [ -n "$(ls -A "$PRIVATE_STORAGE_ROOT")" ]; then
  fail "PRIVATE_STORAGE_ROOT is not empty"
fi

# 1. Every part is there and unchanged.
(cd "$backup" && sha256sum --check --strict --quiet SHA256SUMS) || fail "the backup is incomplete or damaged"
for part in anchors.log.gpg database.dump.gpg private.tar.gpg; do
  grep -q " $part\$" "$backup/SHA256SUMS" || fail "SHA256SUMS does not list $part"
done

# 2. A new database, named by DATABASE_URL, created through the server's maintenance database.
base=${DATABASE_URL%%\?*}
query=${DATABASE_URL#"$base"}
dbname=${base##*/}
[ -n "$dbname" ] || fail "DATABASE_URL names no database"
maintenance="${base%/*}/postgres$query"
exists=$(psql "$maintenance" -XtAc "SELECT 1 FROM pg_database WHERE datname = '${dbname//\'/\'\'}'")
[ -z "$exists" ] || fail "database $dbname exists already; restore into a new one"
psql "$maintenance" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"${dbname//\"/\"\"}\""

umask 077
scratch=$(mktemp -d "${RESTORE_TMPDIR:-${TMPDIR:-/tmp}}/consentoffice-restore.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
decrypt() {
  gpg --batch --yes --quiet --decrypt "$1"
}

# 3. The database (objects owned by whoever restores; the application's role is granted below by
#    the operator as for a new installation).
decrypt "$backup/database.dump.gpg" >"$scratch/database.dump"
pg_restore --dbname="$DATABASE_URL" --no-owner --exit-on-error --single-transaction "$scratch/database.dump"
rm -f "$scratch/database.dump"

# 4. The private files and the anchor file.
mkdir -p "$PRIVATE_STORAGE_ROOT"
chmod 700 "$PRIVATE_STORAGE_ROOT"
decrypt "$backup/private.tar.gpg" | tar -C "$PRIVATE_STORAGE_ROOT" -xf -
mkdir -p "$(dirname "$AUDIT_ANCHOR_FILE")"
decrypt "$backup/anchors.log.gpg" >"$AUDIT_ANCHOR_FILE"

# 5. Planner statistics are not in a dump.
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "ANALYZE"

# 6. The checks.
cd "$app_dir"
"$python" manage.py migrate --check >/dev/null || fail "the code expects migrations this backup lacks (run migrate, then this script's checks)"
"$python" manage.py reencrypt_fields --dry-run >/dev/null || fail "encrypted values that FIELD_ENCRYPTION_KEYS cannot decrypt"
"$python" manage.py verify_private_files || fail "private files missing or damaged"
audit=$("$python" manage.py verify_audit) || {
  echo "$audit" >&2
  fail "the audit trail does not verify"
}
echo "$audit"
case "$audit" in
  *seals=0\ *) ;;
  *anchors=0\ *) fail "the audit trail is sealed but no anchor was restored (AUDIT_ANCHOR_FILE missing from the backup?)" ;;
esac
echo "restore: $dbname restored and checked"
