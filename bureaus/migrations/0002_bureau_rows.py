"""The three bureaus named in clause Art. 3, with their published contact facts."""

from django.db import migrations

BUREAUS = [
    {
        "code": "CIC",
        "name": "株式会社シー・アイ・シー",
        "kind": "member",
        "legal_basis": "割賦販売法及び貸金業法に基づく指定信用情報機関",
        "postal_code": "1608375",
        "address": "東京都新宿区西新宿1-23-7 新宿ファーストウエスト15階",
        "phone": "0120810414",
        "website": "https://www.cic.co.jp/",
        "registered_items": "本人を特定する情報、契約内容、利用残高・割賦残高・年間請求予定額、支払日・完済日、延滞等の支払状況",
    },
    {
        "code": "JICC",
        "name": "株式会社日本信用情報機構",
        "kind": "member",
        "legal_basis": "貸金業法に基づく指定信用情報機関",
        "postal_code": "1100014",
        "address": "東京都台東区北上野1-10-14 住友不動産上野ビル5号館",
        "phone": "0570055955",
        "website": "https://www.jicc.co.jp/",
        "registered_items": "本人を特定する情報、契約内容、返済状況（入金日・残高・延滞・延滞解消等）、取引事実（債権回収・債務整理・保証履行・強制解約・破産申立・債権譲渡等）",
    },
    {
        "code": "KSC",
        "name": "全国銀行個人信用情報センター",
        "kind": "partner",
        "legal_basis": "加盟個人信用情報機関と提携する個人信用情報機関（主に金融機関とその関係会社が会員）",
        "postal_code": "1008216",
        "address": "東京都千代田区丸の内1-3-1",
        "phone": "0332145020",
        "phone_alt": "0120540558",
        "website": "https://www.zenginkyo.or.jp/pcic/",
        "registered_items": "",
    },
]


def forwards(apps, schema_editor):
    Bureau = apps.get_model("bureaus", "Bureau")
    for row in BUREAUS:
        Bureau.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})


def backwards(apps, schema_editor):
    apps.get_model("bureaus", "Bureau").objects.filter(code__in=[b["code"] for b in BUREAUS]).delete()


class Migration(migrations.Migration):
    dependencies = [("bureaus", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
