"""The purposes of use (Art. 1–3) and the first published consent version (Art. 9).

The clause text is the company's own wording following the structure of its consent clauses:
categories ①–⑩, entrustment, marketing and research uses that may be stopped, bureau
registration with fixed periods, disclosure/correction/deletion, refusal rules, the
information center, use after a contract ends, changes, and partner cards.
"""

import hashlib
from datetime import date, datetime, timezone

from django.db import migrations

PURPOSES = [
    # code, name, clause, categories, refusable, stoppable
    ("credit", "与信判断及び与信後の管理", "第1条", list(range(1, 11)), False, False),
    ("marketing_own", "当社の営業案内・宣伝物の送付", "第2条(1)①", [1, 2, 3, 4, 5, 10], True, True),
    ("marketing_partner", "第三者から受託した営業案内", "第2条(1)②", [1, 2, 3, 4, 5, 10], True, True),
    ("research", "市場調査・商品開発", "第2条(1)③", [1, 2, 3, 4, 5, 10], True, False),
    ("bureau", "個人信用情報機関への照会・登録", "第3条", [1, 2, 3], False, False),
]

BODY = """個人情報の取扱いに関する同意条項（第1版）

第1条（個人情報の収集・保有・利用及び委託）
1. 会員は、当社との各取引の与信判断及び与信後の管理のため、当社が次の情報を適切な保護措置のもとで収集・保有・利用することに同意します。
 ① 氏名、生年月日、性別、住所、電話番号、メールアドレス等の連絡先、職業、勤務先、家族構成、住居状況、取引目的など申込時又は届出により把握した属性情報
 ② 取引の種類、申込日、契約日、商品名、契約額、支払回数、決済口座など契約の内容
 ③ 支払開始後の利用残高、毎月の返済状況など取引の客観的事実
 ④ 会員が申告した資産・負債・収入など経済状況
 ⑤ 来店・問い合わせ・連絡の際に当社が知り得た情報（通話の録音を含む）
 ⑥ 法令に基づく本人確認の際に本人確認書類から得た情報
 ⑦ 住民票の写しなど公的機関が発行した書類から得た情報
 ⑧ 源泉徴収票・所得証明書など収入を確認した書類から得た情報
 ⑨ オンラインでの取引時の本人認証に関して得た情報（端末・通信環境を含む）
 ⑩ 官報・電話帳・インターネット等で公開されている情報のうち会員に関するもの
2. 当社は、業務の一部を委託する場合、必要な保護措置を講じたうえで前項の情報を委託先に提供することがあります。委託先は委託された目的の範囲でのみ利用します。

第2条（与信以外の利用）
1. 会員は、当社が前条第1項①②③④⑤⑩の情報を次の目的にも利用することに同意します。
 ① 当社の事業に関する宣伝物の送付、電話・メール等による営業案内
 ② 当社が第三者から受託して行う当該第三者の営業案内
 ③ 当社の事業における市場調査及び商品開発
2. 会員は、前項①②の利用の中止を申し出ることができます。ただし、請求書に記載される案内及びその同封物は中止の対象となりません。

第3条（個人信用情報機関への照会・登録）
1. 当社は、会員の支払能力を調査するため、当社が加盟する個人信用情報機関及びその提携機関に照会し、登録されている情報を利用します。これらの情報は支払能力の調査以外の目的には利用しません。
2. 会員の取引の客観的事実は、加盟する個人信用情報機関に所定の期間登録され、その加盟会員が支払能力の調査のために利用します。
3. 加盟機関は株式会社シー・アイ・シー（CIC）及び株式会社日本信用情報機構（JICC）、提携機関は全国銀行個人信用情報センターです。申込みの事実は照会日から6か月、契約内容及び返済状況は契約期間中及び契約終了後5年、延滞の事実は契約期間中及び契約終了後5年（JICCにおける債権譲渡の事実は発生日から1年）登録されます。

第4条（開示・訂正・削除）
会員は、当社及び個人信用情報機関に対し、自己に関する情報の開示を請求できます。当社への請求は第6条の窓口で受け付けます。情報が事実と異なるときは、当社は速やかに訂正又は削除します。

第5条（同意しない場合）
当社は、申込書の必要事項の記載がない場合又は本条項の全部若しくは一部に同意いただけない場合、申込みをお断りし、又は取引を終了することがあります。ただし、第2条第1項①②に同意しないことを理由とすることはありません。

第6条（問い合わせ窓口）
個人情報に関する問い合わせ、開示・訂正・削除の請求、第2条第2項の中止の申出、ご意見は、当社インフォメーションセンターで受け付けます。

第7条（契約が成立しなかった場合及び終了後の利用）
契約が成立しなかった場合も、その事実及び第1条第1項の情報は与信判断と第3条の登録のためにのみ利用します。取引の終了後も、法令又は当社所定の期間これを保有し、同じ目的及び開示請求等への対応に必要な範囲で利用します。

第8条（合意管轄）
本条項に関する訴訟は、会員の住所地又は当社の本社・支店の所在地を管轄する簡易裁判所又は地方裁判所を管轄裁判所とします。

第9条（条項の変更）
本条項は、当社所定の手続により変更することがあります。

第10条（提携カード）
提携カードの場合、当社は本条項に基づき、提携先は提携先の同意条項に基づき、それぞれ会員の情報を収集・利用します。会員が第1条第1項の情報の変更をいずれか一方に届け出たときも同様とします。

個人情報保護管理者：当社は個人情報の保護に責任を負う管理者を置いています。
"""


def forwards(apps, schema_editor):
    Purpose = apps.get_model("members", "Purpose")
    ConsentVersion = apps.get_model("members", "ConsentVersion")
    for code, name, clause, categories, refusable, stoppable in PURPOSES:
        Purpose.objects.update_or_create(
            code=code,
            defaults={"name": name, "clause": clause, "categories": categories, "refusable": refusable,
                      "stoppable": stoppable},
        )
    ConsentVersion.objects.get_or_create(
        code="2025-01",
        defaults={
            "title": "個人情報の取扱いに関する同意条項（第1版）",
            "body": BODY,
            "body_sha256": hashlib.sha256(BODY.encode("utf-8")).hexdigest(),
            "effective_from": date(2025, 1, 1),
            "published_at": datetime(2024, 12, 1, tzinfo=timezone.utc),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("members", "ConsentVersion").objects.filter(code="2025-01").delete()
    apps.get_model("members", "Purpose").objects.filter(code__in=[p[0] for p in PURPOSES]).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
