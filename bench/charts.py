"""
Horizontal bar charts as plain SVG, drawn with the standard library: one bar per
scenario, its throughput as a ratio to the bare Django hello (the line at 1.0).
No chart library: the drawing is thirty lines and the output diffs as text.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

LABEL_WIDTH = 360
BAR_WIDTH = 440
VALUE_WIDTH = 70
ROW_HEIGHT = 22
TOP = 58


def bar_chart(title: str, bars: list[tuple[str, float]], *, subtitle: str = "", reference: float = 1.0) -> str:
    """An SVG document: `bars` are (label, ratio) pairs, drawn in the order given."""
    if not bars:
        raise ValueError("a chart needs at least one bar")
    # Bars above the reference (a page faster than the bare hello) still fit.
    scale = BAR_WIDTH / (max(reference, *(value for _, value in bars)) * 1.05)
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = TOP + ROW_HEIGHT * len(bars) + 28
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-labelledby='title' "
        "font-family='system-ui, sans-serif' font-size='12'>",
        f"<title id='title'>{escape(title)}</title>",
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
        f"<text x='8' y='22' font-size='15' font-weight='bold' fill='#111'>{escape(title)}</text>",
        f"<text x='8' y='42' fill='#444'>{escape(subtitle)}</text>",
    ]
    for row, (label, value) in enumerate(bars):
        y = TOP + row * ROW_HEIGHT
        length = max(value * scale, 1)
        colour = "#1f6f43" if value >= 0.5 * reference else "#b45309" if value >= 0.1 * reference else "#b91c1c"
        parts += [
            f"<text x='{LABEL_WIDTH - 8}' y='{y + 15}' text-anchor='end' fill='#111'>{escape(label)}</text>",
            f"<rect x='{LABEL_WIDTH}' y='{y + 3}' width='{length:.1f}' height='{ROW_HEIGHT - 6}' fill='{colour}'/>",
            f"<text x='{LABEL_WIDTH + length + 6:.1f}' y='{y + 15}' fill='#111'>{value:.2f}&#215;</text>",
        ]
    x = LABEL_WIDTH + reference * scale
    bottom = TOP + ROW_HEIGHT * len(bars)
    parts += [
        f"<line x1='{x:.1f}' y1='{TOP - 4}' x2='{x:.1f}' y2='{bottom + 4}' stroke='#111' stroke-dasharray='4 3'/>",
        f"<text x='{x:.1f}' y='{bottom + 20}' text-anchor='middle' fill='#111'>"
        f"{reference:.0f}&#215; = bare Django hello</text>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
