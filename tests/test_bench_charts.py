"""`make bench` draws its throughput as SVG bar charts, ratios to the bare Django hello."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import SimpleTestCase

from bench.charts import bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own drawing, not untrusted input)


class BenchChartTests(SimpleTestCase):
    def test_each_scenario_is_one_labelled_bar_with_its_ratio(self):
        svg = parse(bar_chart("Throughput", [("bare hello", 1.0), ("sign POST", 0.043)]))
        texts = [element.text for element in svg.iter(f"{SVG}text")]
        assert "bare hello" in texts
        assert "sign POST" in texts
        assert "0.04\N{MULTIPLICATION SIGN}" in texts
        bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("x") != "0" and "x" in rect.attrib]
        assert len(bars) == 2
        assert float(bars[0].get("width")) > 20 * float(bars[1].get("width"))

    def test_labels_are_escaped(self):
        svg = bar_chart("a <b> & c", [("public list, search 'lopez' <&>", 0.5)])
        texts = [element.text for element in parse(svg).iter(f"{SVG}text")]
        assert "public list, search 'lopez' <&>" in texts

    def test_a_chart_without_bars_is_refused(self):
        with pytest.raises(ValueError, match="at least one bar"):
            bar_chart("Throughput", [])
