"""Small server-side SVG charts for the supervisors' dashboard (nothing loaded from outside).

Each chart is one ``<svg role="img">`` with a ``<title>`` and ``<desc>`` named by
``aria-labelledby``, a ``<title>`` on every bar or point (shown as a tooltip and read by screen
readers), and the value written as text beside each bar, so nobody has to read values off an axis.
Every label and value passes through ``format_html`` (escaped); colours come from CSS classes
(``chart-s0`` …) so the page decides them and the admin's dark theme can restyle them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, cos, pi, sin

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

FONT = 12


def _coordinate(value):
    return f"{value:.1f}" if isinstance(value, float) else value


def _tag(template: str, *args, **kwargs) -> SafeString:
    """``format_html`` with floats written to one decimal (coordinates stay short)."""
    return format_html(
        template, *map(_coordinate, args), **{key: _coordinate(value) for key, value in kwargs.items()}
    )


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per label (``None``: nothing to show for that label)."""

    label: str
    values: Sequence[float | None]


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text}{unit}"


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: list[str]) -> SafeString:
    head = _tag(
        '<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc=desc,
    )
    return mark_safe(head + "".join(body) + "</svg>")  # each part was escaped by format_html


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts = []
    for index, item in enumerate(series):
        parts.append(
            _tag(
                '<g class="chart-legend"><rect class="chart-s{i}" x="{x}" y="{y}" width="12" height="12"/>'
                '<text x="{tx}" y="{ty}">{label}</text></g>',
                i=index,
                x=x,
                y=y,
                tx=x + 16,
                ty=y + 11,
                label=item.label,
            )
        )
        x += 24 + FONT * len(str(item.label))
    return parts


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    desc: str = "",
    width: int = 640,
    height: int = 240,
) -> SafeString:
    """Grouped vertical bars: one group per label, one bar per series, the value above each bar."""
    top, bottom, left, right = 34, 24, 8, 8
    plot_h = height - top - bottom
    groups = max(len(labels), 1)
    group_w = (width - left - right) / groups
    bar_w = max(min((group_w - 6) / max(len(series), 1), 40), 2)
    peak = max([v for s in series for v in s.values if v is not None] + [1])
    body = _legend(series, left, 4)
    baseline = top + plot_h
    body.append(
        _tag('<line class="chart-axis" x1="{}" y1="{y}" x2="{}" y2="{y}"/>', left, width - right, y=baseline)
    )
    for g, label in enumerate(labels):
        x0 = left + g * group_w + (group_w - bar_w * len(series)) / 2
        for s, item in enumerate(series):
            value = item.values[g] if g < len(item.values) else None
            bar_h = 0 if not value else max(plot_h * value / peak, 1)
            x = x0 + s * bar_w
            text = f"{label} {item.label} {_number(value, unit)}"
            body.append(
                _tag(
                    '<rect class="chart-s{s}" x="{x}" y="{y}" width="{w}" height="{h}">'
                    "<title>{text}</title></rect>"
                    '<text class="chart-value" x="{tx}" y="{ty}" text-anchor="middle">{value}</text>',
                    s=s,
                    x=x,
                    y=baseline - bar_h,
                    w=max(bar_w - 2, 1),
                    h=bar_h,
                    text=text,
                    tx=x + bar_w / 2 - 1,
                    ty=baseline - bar_h - 3,
                    value=_number(value),
                )
            )
        body.append(
            _tag(
                '<text class="chart-label" x="{x}" y="{y}" text-anchor="middle">{label}</text>',
                x=left + g * group_w + group_w / 2,
                y=height - 6,
                label=label,
            )
        )
    return _svg(chart_id, title, desc or title, width, height, body)


def line_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str = "%",
    max_value: float = 100,
    desc: str = "",
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """A line through the values (gaps where a value is ``None``), each point labelled."""
    top, bottom, left, right = 20, 24, 28, 28
    plot_h = height - top - bottom
    step = (width - left - right) / max(len(labels) - 1, 1)
    peak = max([max_value] + [v for v in values if v is not None])
    baseline = top + plot_h
    body = [
        _tag('<line class="chart-axis" x1="{}" y1="{y}" x2="{}" y2="{y}"/>', left, width - right, y=baseline),
        _tag('<line class="chart-grid" x1="{}" y1="{y}" x2="{}" y2="{y}"/>', left, width - right, y=top),
    ]
    segment: list[str] = []
    segments: list[list[str]] = [segment]
    points = []
    # Where the points stand close together, every other axis label is left out (the point keeps its title).
    label_every = max(1, ceil(40 / step)) if step else 1
    for i, label in enumerate(labels):
        x = left + i * step
        value = values[i] if i < len(values) else None
        if (len(labels) - 1 - i) % label_every == 0:  # counted from the newest, which always shows
            body.append(
                _tag(
                    '<text class="chart-label" x="{x}" y="{y}" text-anchor="middle">{label}</text>',
                    x=x,
                    y=height - 6,
                    label=label,
                )
            )
        if value is None:
            segment = []
            segments.append(segment)
            continue
        y = baseline - plot_h * value / peak
        segment.append(f"{x},{y}")
        points.append(
            _tag(
                '<circle class="chart-point" cx="{x}" cy="{y}" r="4"><title>{text}</title></circle>'
                '<text class="chart-value" x="{x}" y="{ty}" text-anchor="middle">{value}</text>',
                x=x,
                y=y,
                ty=max(y - 7, FONT),
                text=f"{label} {_number(value, unit)}",
                value=_number(value, unit),
            )
        )
    for line in segments:
        if len(line) > 1:
            body.append(_tag('<polyline class="chart-line" points="{}"/>', " ".join(line)))
    body.extend(points)
    return _svg(chart_id, title, desc or title, width, height, body)


def donut(
    *, chart_id: str, title: str, part: int, total: int, part_label: str, rest_label: str, size: int = 180
) -> SafeString:
    """``part`` of ``total`` as a ring with the percentage in the middle and both counts below."""
    radius = size / 2 - 18
    cx = cy = size / 2
    share = part / total if total else 0.0
    percent = _number(round(share * 100, 1), "%") if total else "—"
    body = [
        _tag(
            '<circle class="{css}" cx="{c}" cy="{c}" r="{r}" fill="none" stroke-width="22">'
            "<title>{rest_label} {rest}</title></circle>",
            css="chart-ring-rest" if total else "chart-ring-empty",
            c=cx,
            r=radius,
            rest_label=rest_label,
            rest=_number(total - part),
        )
    ]
    if total and part:
        if part >= total:
            body.append(
                _tag(
                    '<circle class="chart-ring" cx="{c}" cy="{c}" r="{r}" fill="none" stroke-width="22">'
                    "<title>{label} {n}</title></circle>",
                    c=cx,
                    r=radius,
                    label=part_label,
                    n=_number(part),
                )
            )
        else:
            angle = 2 * pi * share - pi / 2
            end_x, end_y = cx + radius * cos(angle), cy + radius * sin(angle)
            body.append(
                _tag(
                    '<path class="chart-ring" fill="none" stroke-width="22" '
                    'd="M {sx} {sy} A {r} {r} 0 {large} 1 {ex} {ey}">'
                    "<title>{label} {n}</title></path>",
                    sx=cx,
                    sy=cy - radius,
                    r=radius,
                    large=1 if share > 0.5 else 0,
                    ex=end_x,
                    ey=end_y,
                    label=part_label,
                    n=_number(part),
                )
            )
    body.append(
        _tag(
            '<text class="chart-center" x="{c}" y="{c}" text-anchor="middle" dominant-baseline="central">{p}</text>',
            c=cx,
            p=percent,
        )
    )
    return _svg(chart_id, title, f"{part_label} {part} / {total}", size, size, body)
