"""``consentoffice_canonical_jsonb(jsonb)``: a jsonb value written as Python's
``json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, separators=(",", ":"))``
would write it, so PostgreSQL can hash audit rows the way ``consentoffice.core.history.row_hash``
does (``consentoffice.core.digests``). Keys in code-point order (COLLATE "C" compares UTF-8 bytes,
which is code-point order); strings escaped by jsonb's own output (``"``, ``\\``, ``\\b \\f \\n \\r \\t``,
other controls as ``\\u00xx``: Python's escapes). NULL for a number that is not a plain integer
(Python would write a float's repr): such rows are hashed in Python. PostgreSQL only.

PL/pgSQL, not SQL: a recursive SQL function is planned again at every nested call (ms a row);
one query per object or array with a generic cached plan costs tens of microseconds.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION consentoffice_canonical_jsonb(value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET plan_cache_mode = force_generic_plan AS $body$
DECLARE
    result text;
    complete boolean;
BEGIN
    CASE jsonb_typeof(value)
    WHEN 'object' THEN
        SELECT '{' || coalesce(string_agg(to_json(key)::text || ':' || item, ',' ORDER BY key COLLATE "C"), '') || '}',
               bool_and(item IS NOT NULL)
        INTO result, complete
        FROM (SELECT key, CASE WHEN jsonb_typeof(element) IN ('object', 'array') THEN consentoffice_canonical_jsonb(element)
                               WHEN jsonb_typeof(element) <> 'number' THEN element::text
                               WHEN element::text ~ '^-?[0-9]+$' AND length(element::text) <= 4300 THEN element::text
                          END AS item
              FROM jsonb_each(value) AS members (key, element)) AS items;
    WHEN 'array' THEN
        SELECT '[' || coalesce(string_agg(item, ',' ORDER BY position), '') || ']', bool_and(item IS NOT NULL)
        INTO result, complete
        FROM (SELECT position, CASE WHEN jsonb_typeof(element) IN ('object', 'array') THEN consentoffice_canonical_jsonb(element)
                               WHEN jsonb_typeof(element) <> 'number' THEN element::text
                               WHEN element::text ~ '^-?[0-9]+$' AND length(element::text) <= 4300 THEN element::text
                          END AS item
              FROM jsonb_array_elements(value) WITH ORDINALITY AS elements (element, position)) AS items;
    WHEN 'number' THEN
        RETURN CASE WHEN value::text ~ '^-?[0-9]+$' AND length(value::text) <= 4300 THEN value::text END;
    ELSE
        RETURN value::text;
    END CASE;
    RETURN CASE WHEN complete IS FALSE THEN NULL ELSE result END;
END
$body$;
"""

DROP = "DROP FUNCTION IF EXISTS consentoffice_canonical_jsonb(jsonb);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("consentoffice", "0015_no_redundant_indexes")]

    operations = [migrations.RunPython(create, drop)]
