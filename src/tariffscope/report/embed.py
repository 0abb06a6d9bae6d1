"""Matplotlib figures (the trade and scenario areas' charts) as inline SVG for the one-file brief."""
from __future__ import annotations

import io
import re
from typing import Any


def figure_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element: no XML prolog, text kept as text, scales to its container."""
    import matplotlib

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
    return text
