"""Reply letters to the requester as Japanese PDFs (reportlab's built-in CID fonts, no font files).

One letter for every outcome of every kind. Refusals state the ground (APPI Art. 33(2)) and the
reasons (Art. 36); a correction lists what was changed (Art. 34(3)); a marketing stop says that
notices printed on bills continue (clause Art. 2(2)).
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from members.models import Member
from members.normalize import format_phone, format_postal_code
from requests import rules
from requests.models import CorrectionItem, DeletionItem, Ticket

REQUESTER_LANGUAGE = "ja"
FONT = "HeiseiMin-W3"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=17, wordWrap="CJK")
TITLE = ParagraphStyle("title", parent=BODY, fontSize=14, leading=22, alignment=1, spaceAfter=8)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=2)

Kind, Outcome = rules.Kind, rules.Outcome

SUBJECTS = {
    Kind.DISCLOSURE: _("保有個人データの開示について"),
    Kind.CORRECTION: _("保有個人データの訂正について"),
    Kind.DELETION: _("保有個人データの削除について"),
    Kind.USAGE_STOP: _("保有個人データの利用停止について"),
    Kind.PROVISION_STOP: _("保有個人データの第三者提供の停止について"),
    Kind.MARKETING_STOP: _("営業目的での利用の中止について"),
}
# What the letter says for each (kind, outcome); refusals and partial answers add the ground and reasons.
BODIES = {
    (Kind.DISCLOSURE, Outcome.FULFILLED): _(
        "ご請求のありました当社が保有するお客様の個人データを、同封（又は電磁的記録）のとおり開示いたします。第三者提供の記録及び業務委託の記録も併せて開示いたします。"
    ),
    (Kind.DISCLOSURE, Outcome.PARTLY): _(
        "ご請求のありました個人データのうち、下記を除く部分を開示いたします。"
    ),
    (Kind.CORRECTION, Outcome.FULFILLED): _("ご請求のとおり、下記の項目を訂正いたしました。"),
    (Kind.CORRECTION, Outcome.PARTLY): _(
        "ご請求の項目のうち、下記のとおり訂正いたしました。訂正しなかった項目とその理由は下記のとおりです。"
    ),
    (Kind.CORRECTION, Outcome.REFUSED): _(
        "ご請求の項目について調査いたしましたが、訂正は行いませんでした。理由は下記のとおりです。"
    ),
    (Kind.DELETION, Outcome.FULFILLED): _(
        "ご請求のとおり、下記の個人データを削除（又は匿名化）いたしました。"
    ),
    (Kind.DELETION, Outcome.PARTLY): _(
        "ご請求の個人データのうち、下記のとおり削除いたしました。法令等により保存が必要なため削除しなかったものは下記のとおりです。"
    ),
    (Kind.DELETION, Outcome.REFUSED): _("ご請求の個人データは、下記の理由により削除いたしませんでした。"),
    (Kind.USAGE_STOP, Outcome.FULFILLED): _(
        "ご請求のとおり、与信判断及び与信後の管理に必要な範囲を除き、お客様の個人データの利用（営業案内及び市場調査を含みます）を停止いたしました。"
    ),
    (Kind.PROVISION_STOP, Outcome.FULFILLED): _(
        "ご請求のとおり、提携先への個人データの提供を停止いたしました。"
    ),
    (Kind.MARKETING_STOP, Outcome.FULFILLED): _(
        "お申出のとおり、当社及び当社が受託する第三者の営業案内へのお客様の個人データの利用を中止いたしました。なお、ご利用代金明細書など請求書等に記載される案内及びその同封物は、中止の対象とならず引き続きお届けします（同意条項第2条第2項）。"
    ),
}
REFUSED_DEFAULT = _("ご請求について検討いたしましたが、下記の理由によりご請求に応じることができません。")
WITHDRAWN = _("ご請求の取下げを承りました。本件の手続は終了いたしました。")
NOTHING_HELD = _("ご請求のありました方について、当社が保有する個人データはありませんでした。")
CLOSING = _("ご不明な点は下記インフォメーションセンターまでお問い合わせください。")


def japanese_date(day: date) -> str:
    """2026年11月25日（令和8年11月25日）."""
    reiwa = day.year - 2018
    return f"{day.year}年{day.month}月{day.day}日（令和{reiwa}年{day.month}月{day.day}日）"


def _field_label(field: str) -> str:
    return str(Member._meta.get_field(field).verbose_name)


def letter_paragraphs(ticket: Ticket, package_files: list[str] | None = None) -> list[str]:
    """The letter's body, paragraph by paragraph (tested on its own; the PDF lays it out)."""
    if ticket.outcome == Outcome.WITHDRAWN:
        return [WITHDRAWN]
    if ticket.member is None:
        return [NOTHING_HELD]
    outcome = ticket.outcome or Outcome.FULFILLED
    paragraphs = [BODIES.get((ticket.kind, outcome), REFUSED_DEFAULT)]
    if ticket.kind == Kind.CORRECTION:
        for item in ticket.correction_items.order_by("id"):
            label = _field_label(item.field)
            if item.decision == CorrectionItem.Decision.ACCEPTED:
                paragraphs.append(
                    _("訂正しました: %(field)s「%(before)s」→「%(after)s」")
                    % {"field": label, "before": item.current_value, "after": item.requested_value}
                )
            else:
                paragraphs.append(
                    _("訂正しませんでした: %(field)s（理由: %(note)s）")
                    % {"field": label, "note": item.decision_note}
                )
    if ticket.kind == Kind.DELETION:
        for item in ticket.deletion_items.order_by("id"):
            label = rules.DELETION_TARGETS[item.target][0]
            if item.decision == DeletionItem.Decision.ACCEPTED:
                paragraphs.append(_("削除しました: %(target)s") % {"target": label})
            else:
                paragraphs.append(
                    _("削除しませんでした: %(target)s（理由: %(ground)s）")
                    % {"target": label, "ground": rules.RETENTION_GROUNDS.get(item.ground, "")}
                )
    if outcome == Outcome.REFUSED and ticket.refusal_ground:
        paragraphs.append(_("根拠: %(ground)s") % {"ground": rules.REFUSAL_GROUNDS[ticket.refusal_ground]})
    if ticket.outcome_reason:
        paragraphs.append(_("理由: %(reason)s") % {"reason": ticket.outcome_reason})
    if package_files:
        paragraphs.append(_("開示する記録: %(files)s") % {"files": "、".join(package_files)})
    if ticket.fee_amount and ticket.fee_paid_on and ticket.kind in rules.FEE_KINDS:
        paragraphs.append(_("開示手数料: %(fee)s円（受領済み）") % {"fee": f"{ticket.fee_amount:,}"})
    paragraphs.append(CLOSING)
    return paragraphs


def _render(ticket: Ticket, paragraphs: list[str]) -> bytes:
    center = settings.INFORMATION_CENTER
    member = ticket.member
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=ticket.number,
        author=center["company"],
    )
    story = [Paragraph(escape(japanese_date(timezone.localdate())), RIGHT), Spacer(1, 4 * mm)]
    if member is not None:
        story += [
            Paragraph(escape(f"〒{format_postal_code(member.postal_code)}"), BODY),
            Paragraph(escape(member.address), BODY),
            Paragraph(escape(f"{member.full_name} 様"), BODY),
        ]
    story += [
        Spacer(1, 4 * mm),
        Paragraph(escape(center["company"]), RIGHT),
        Paragraph(escape(center["name"]), RIGHT),
        Spacer(1, 8 * mm),
        Paragraph(escape(str(SUBJECTS.get(ticket.kind, _("お問い合わせへのご回答")))), TITLE),
        Paragraph(escape(_("受付番号: %(number)s") % {"number": ticket.number}), BODY),
        Spacer(1, 4 * mm),
    ]
    story += [Paragraph(escape(str(text)), BODY) for text in paragraphs]
    story += [
        Spacer(1, 8 * mm),
        Paragraph(escape(f"{center['company']} {center['name']}"), BODY),
        Paragraph(escape(f"〒{format_postal_code(center['postal_code'])} {center['address']}"), BODY),
        Paragraph(escape(_("電話 %(phone)s") % {"phone": format_phone(center["phone"])}), BODY),
    ]
    document.build(story)
    return buffer.getvalue()


def disclosure_letter(ticket: Ticket, package_files: list[str]) -> bytes:
    # Letters go to the requester: Japanese whatever language the operator reads.
    with translation.override(REQUESTER_LANGUAGE):
        return _render(ticket, letter_paragraphs(ticket, package_files))


def reply_letter(ticket: Ticket) -> bytes:
    with translation.override(REQUESTER_LANGUAGE):
        return _render(ticket, letter_paragraphs(ticket))


def reply_letter_filename(ticket: Ticket) -> str:
    return f"{ticket.number}-reply.pdf"
