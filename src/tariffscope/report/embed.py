"""Matplotlib figures (the trade and scenario areas' charts) as inline SVG for the one-file brief."""
from __future__ import annotations

import html
import io
import re
from typing import Any


def figure_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element: no XML prolog, text kept as text, scales to its container, named
    for screen readers (role="img" and an aria-label from the figure's titles)."""
    import matplotlib

    name = _figure_name(fig)

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tariffscope"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # noqa: BLE001 - closing is housekeeping: a bare Figure (no pyplot manager) needs none
        pass
    text = buf.getvalue()
    text = text[text.find("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # drops the matplotlib homepage URL
    # responsive: keep the viewBox, let CSS set the width
    text = re.sub(r'(<svg[^>]*?) width="[^"]*pt" height="[^"]*pt"', r'\1 width="100%"', text, count=1)
    return text.replace("<svg", f'<svg role="img" aria-label="{html.escape(name, quote=True)}"', 1)


def _figure_name(fig: Any) -> str:
    """The suptitle, else the axes' titles joined: what the chart shows, in words."""
    sup = getattr(fig, "_suptitle", None)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    parts = ([sup.get_text()] if sup is not None and sup.get_text() else []) + titles
    return "; ".join(parts) or "chart"
