"""CLI command ``demo`` (what ``make demo`` runs): the headline US-Japan balance, then the brief."""
from __future__ import annotations

import os
from pathlib import Path

from tariffscope import api
from tariffscope.clicmd._app import app, console
from tariffscope.report import fmt
from tariffscope.report.sections import as_dict, get, norm_sources


@app.command("demo")
def demo_cmd() -> None:
    """Print US goods trade with Japan in 2024 (with sources) and build the brief.

    The brief goes to $TARIFFSCOPE_HOME/brief.html when TARIFFSCOPE_HOME is set, else ./brief.html.
    """
    balance = getattr(api, "balance", None)
    if callable(balance):
        res = as_dict(balance(reporter="USA", partner="JPN", period="2024"))
        cur = get(res, "currency", default="USD")
        console.print("[bold]US goods trade with Japan, 2024[/]")
        console.print(f"  US exports to Japan     {fmt.money(get(res, 'exports'), cur, 2):>14}")
        console.print(f"  US imports from Japan   {fmt.money(get(res, 'imports'), cur, 2):>14}")
        console.print(f"  Balance                 {fmt.money(get(res, 'balance'), cur, 2):>14}")
        for s in norm_sources(get(res, "sources")):
            bits = [str(s.get("source"))] + [str(s[k]) for k in ("title", "vintage") if s.get(k)]
            console.print(f"  [dim]source: {' · '.join(bits)}[/]", highlight=False)
    else:
        console.print("[yellow]The balance (tariffscope.api.balance) is not available in this build.[/]")
    home = os.environ.get("TARIFFSCOPE_HOME")
    out = (Path(home).expanduser() if home else Path.cwd()) / "brief.html"
    from tariffscope.report.brief import build_brief  # late, as in the brief command

    path = build_brief(partner="JPN", out=out, fmt="html", progress=True)
    console.print(f"Brief written to {path}", highlight=False, soft_wrap=True)
