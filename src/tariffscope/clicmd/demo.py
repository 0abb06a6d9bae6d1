"""CLI command ``demo`` (what ``make demo`` runs): the headline US-Japan balance, then the brief."""
from __future__ import annotations

import os
from pathlib import Path

from tariffscope import api
from tariffscope.clicmd._app import app, console
from tariffscope.report import fmt
from tariffscope.trade.balance import BalanceResult


@app.command("demo")
def demo_cmd() -> None:
    """Print US goods trade with Japan in 2024 (with sources) and build the brief.

    The brief goes to $TARIFFSCOPE_HOME/brief.html when TARIFFSCOPE_HOME is set, else ./brief.html.
    """
    # the headline is the official figure (total exports - general imports, one release), as Census publishes it
    res = api.balance(reporter="USA", partner="JPN", period="2024", by=None)
    assert isinstance(res, BalanceResult)  # one partner: one result, not a table of partners
    cur = res.currency
    head = res.headline
    console.print("US goods trade with Japan, 2024", style="bold")
    console.print(f"  US exports to Japan     {fmt.money(res.exports, cur, 2):>14}")
    console.print(f"  US imports from Japan   {fmt.money(res.imports, cur, 2):>14}")
    console.print(f"  Balance                 {fmt.money(res.balance, cur, 2):>14}")
    if head is not None:
        console.print(f"  basis: {head.basis}; vintage: {head.vintage}", highlight=False, soft_wrap=True)
    for s in res.sources:
        bits = [s.source] + [v for v in (s.title, s.vintage) if v]
        console.print(f"  source: {' · '.join(bits)}", style="dim", highlight=False)
    home = os.environ.get("TARIFFSCOPE_HOME")
    out = (Path(home).expanduser() if home else Path.cwd()) / "brief.html"
    from tariffscope.report.brief import build_brief  # late, as in the brief command

    path = build_brief(partner="JPN", out=out, fmt="html", progress=True)
    console.print(f"Brief written to {path}", highlight=False, soft_wrap=True)
