"""Charts as server-side SVG (pygal), each with the same figures as an HTML table.

The SVG is drawn without JavaScript, marked as one image with a text alternative, and the table
beside it carries the numbers for screen readers, copying and printing. Colours are dark enough
for 3:1 contrast against white.

pygal puts a ``<style>`` in every chart; the Content-Security-Policy allows no inline style, so
the charts' CSS is one static file instead, ``static/charts.css``, made from pygal's own by
``stylesheet()``: ``python -m hub.web.charts > hub/web/static/charts.css`` after changing
``STYLE`` or pygal (a test says when the file is out of date).
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

from hub.web.i18n import gettext as _

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#0b0c0c",
    foreground_strong="#0b0c0c", foreground_subtle="#505a5f", opacity="1", opacity_hover=".85",
    colors=("#005a74", "#d4351c", "#00703c", "#4c2c92", "#6f4e00", "#912b88"),
    font_family=FONT, label_font_family=FONT, major_label_font_family=FONT,
    value_font_family=FONT, value_label_font_family=FONT, title_font_family=FONT,
    legend_font_family=FONT, tooltip_font_family=FONT,
    label_font_size=14, major_label_font_size=14, legend_font_size=15, title_font_size=18,
    value_font_size=13,
)


@dataclass(frozen=True)
class Chart:
    """One chart: an id for links, a caption, the SVG, and the table that says the same."""

    id: str
    caption: str
    svg: Markup
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    summary: str  # one sentence for the image's text alternative


def _config(**extra: Any) -> dict[str, Any]:
    return {**dict(style=STYLE, js=[], disable_xml_declaration=True, explicit_size=False,
                   no_data_text=_("No data"),  # drawn when a chart has nothing yet, in the page's language
                   width=900, height=420, show_legend=False, print_values=False,
                   truncate_label=-1, x_label_rotation=0, margin=10), **extra}


def _whole_numbers(chart, series: dict[str, list[float]]) -> None:
    """Counts get whole-number gridlines (pygal would label 0.1, 0.2… for small counts)."""
    values = [v for vs in series.values() for v in vs if v is not None]
    if values and all(float(v).is_integer() for v in values):
        top = max(1, int(max(values)))
        step = max(1, -(-top // 8))
        chart.y_labels = list(range(0, top + step, step))


_KINDS = {pygal.Bar: "bar", pygal.StackedBar: "stacked", pygal.HorizontalBar: "horizontal",
          pygal.Line: "line"}
_CHART_ID = re.compile(r' id="(chart-[0-9a-f-]+)"')
# Only pygal's JavaScript uses these: duplicate ids, an inline style, and each bar's and dot's
# tooltip text (a sixth of the impact page's elements; the table beside the chart has the figures).
_FOR_SCRIPT = re.compile(r' id="activate-serie-\d+"| style="opacity: 0"|<desc class="[^"]*">[^<]*</desc>')


def _svg(chart: pygal.graph.graph.Graph, label: str) -> Markup:
    svg = chart.render(is_unicode=True)
    svg = re.sub(r"<!--.*?-->", "", svg)
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)  # pygal's tooltip config: no JS here
    svg = re.sub(r"<style\b.*?</style>", "", svg, flags=re.S).replace("<defs></defs>", "")
    svg = _FOR_SCRIPT.sub("", _CHART_ID.sub("", svg, count=1))
    svg = svg.replace('class="pygal-chart"', f'class="pygal-chart pygal-{_KINDS[type(chart)]}"', 1)
    # One image with one name: screen readers read the table that follows instead of every bar.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" focusable="false" ', 1)
    return Markup(svg)


def stylesheet() -> str:
    """static/charts.css: the CSS pygal writes into each chart, once for every chart here.

    Rules every kind of chart shares apply to ``.pygal-chart``; the few only one kind has (a
    line's stroke width) to ``.pygal-chart.pygal-<kind>``.
    """
    rules: dict[str, list[str]] = {}
    for kind, name in _KINDS.items():
        chart = kind(**_config(**({"dots_size": 4, "stroke_style": {"width": 3}} if name == "line" else {})))
        for n in range(len(STYLE.colors)):
            chart.add(str(n), [1, 2])
        svg = chart.render(is_unicode=True)
        scope = "#" + _CHART_ID.search(svg).group(1)
        css = html.unescape(re.search(r"<style[^>]*>(.*?)</style>", svg, flags=re.S).group(1))
        rules[name] = [r.strip().replace(scope, "{scope}") + "}" for r in css.split("}") if r.strip()]
    shared = [r for r in rules["bar"] if all(r in other for other in rules.values())]
    lines = ["/* Made by hub.web.charts.stylesheet() from pygal's own CSS: do not edit. */"]
    lines += [r.replace("{scope}", ".pygal-chart") for r in shared]
    for name, own in rules.items():
        lines += [r.replace("{scope}", f".pygal-chart.pygal-{name}") for r in own if r not in shared]
    lines.append(".pygal-chart .tooltip-overlay{display:none}")  # pygal's tooltips need its script
    return "\n".join(lines) + "\n"


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _thin_labels(labels: list[str], most: int = 12) -> list[str]:
    """Every n-th label only, so a long run of months stays readable."""
    if len(labels) <= most:
        return labels
    step = -(-len(labels) // most)
    return [label if i % step == 0 else "" for i, label in enumerate(labels)]


def bar(chart_id: str, caption: str, labels: list[str], series: dict[str, list[float]],
        headers: tuple[str, ...], summary: str, horizontal: bool = False,
        stacked: bool = False, row_labels: list[str] | None = None) -> Chart:
    kind = pygal.HorizontalBar if horizontal else (pygal.StackedBar if stacked else pygal.Bar)
    chart = kind(**_config(show_legend=len(series) > 1, legend_at_bottom=True))
    chart.x_labels = labels if horizontal else _thin_labels(labels)
    for name, values in series.items():
        chart.add(name, values)
    _whole_numbers(chart, series)
    rows = _rows(row_labels or labels, series)
    return Chart(chart_id, caption, _svg(chart, f"{caption}. {summary}"), headers, rows, summary)


def line(chart_id: str, caption: str, labels: list[str], series: dict[str, list[float]],
         headers: tuple[str, ...], summary: str, range_: tuple[float, float] | None = None,
         row_labels: list[str] | None = None) -> Chart:
    chart = pygal.Line(**_config(show_legend=len(series) > 1, legend_at_bottom=True,
                                 dots_size=4, stroke_style={"width": 3},
                                 **({"range": range_} if range_ else {})))
    chart.x_labels = _thin_labels(labels)
    for name, values in series.items():
        chart.add(name, values)
    if range_ is None:
        _whole_numbers(chart, series)
    rows = _rows(row_labels or labels, series)
    return Chart(chart_id, caption, _svg(chart, f"{caption}. {summary}"), headers, rows, summary)


def _rows(labels: list[str], series: dict[str, list[float]]) -> tuple[tuple[Any, ...], ...]:
    """The table: one row per label (full names, where the chart's axis may abbreviate)."""
    return tuple((label, *(values[i] for values in series.values())) for i, label in enumerate(labels))


if __name__ == "__main__":
    sys.stdout.write(stylesheet())
