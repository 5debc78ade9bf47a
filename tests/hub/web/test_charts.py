"""The pygal charts (hub.web.charts) under a policy that allows no inline style."""

from __future__ import annotations

import re

from hub.web import charts
from hub.web.app import HERE


def test_the_charts_stylesheet_is_pygals_own_css_as_it_is_now():
    """static/charts.css is made by stylesheet(); after changing STYLE or pygal, run
    python -m hub.web.charts > hub/web/static/charts.css"""
    assert (HERE / "static" / "charts.css").read_text() == charts.stylesheet()


def test_a_chart_carries_no_style_no_script_and_no_ids_of_its_own():
    """pygal wrote a <style> into every chart, which the policy would refuse, and ids that
    repeat when a page shows two charts."""
    for chart in (charts.bar("a", "A", ["x", "y"], {"One": [1, 2], "Two": [3, 4]}, ("L", "1", "2"), "s"),
                  charts.bar("b", "B", ["x"], {"One": [1]}, ("L", "1"), "s", horizontal=True),
                  charts.line("c", "C", ["x", "y"], {"One": [1, 2]}, ("L", "1"), "s")):
        svg = str(chart.svg)
        assert "<style" not in svg and "style=" not in svg and "<script" not in svg
        assert "<desc" not in svg, "tooltip text for pygal's script: elements for nothing"
        assert not re.search(r'\bid="', svg)
        assert re.match(r'<svg role="img" aria-label="[^"]+" focusable="false"', svg)
        kind = re.search(r'class="pygal-chart pygal-(\w+)"', svg).group(1)
        assert kind in {"bar", "horizontal", "line"}


def test_rules_for_one_kind_of_chart_apply_to_that_kind_only():
    css = charts.stylesheet()
    assert ".pygal-chart.pygal-line .series{stroke-width:3}" in css
    assert ".pygal-chart .color-5,.pygal-chart .color-5 a:visited{stroke:#912b88;fill:#912b88}" in css
    assert "&gt;" not in css and "#chart-" not in css
