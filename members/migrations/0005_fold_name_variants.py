"""The name search folds old and variant kanji (髙→高, 﨑→崎, 邊→辺 …; ``members.normalize.NAME_VARIANTS``
as of this migration): fold the stored search keys the same way. Only the derived ``search_name`` is
touched (it has no history); the names themselves are kept as written."""

from django.db import migrations

VARIANTS = "髙﨑嵜邊邉齋齊濵濱櫻廣國澤曾德眞槗𠮷冨舘惠榮條瀨靜淺關黑實藏龍"
EVERYDAY = "高崎崎辺辺斎斉浜浜桜広国沢曽徳真橋吉富館恵栄条瀬静浅関黒実蔵竜"


def fold(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Member._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET search_name = translate(search_name, %s, %s) WHERE search_name ~ %s",
                [VARIANTS, EVERYDAY, f"[{VARIANTS}]"],
            )
        return
    table = str.maketrans(VARIANTS, EVERYDAY)
    for pk, key in Member.objects.values_list("pk", "search_name").iterator():
        folded = key.translate(table)
        if folded != key:
            Member.objects.filter(pk=pk).update(search_name=folded)


class Migration(migrations.Migration):
    dependencies = [("members", "0004_member_prefecture_index")]

    operations = [migrations.RunPython(fold, migrations.RunPython.noop)]
