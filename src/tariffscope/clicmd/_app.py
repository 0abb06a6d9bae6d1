"""The typer apps and consoles every CLI command module registers on and prints to.

They live here, below the command modules, so that ``clicmd/*`` never imports ``tariffscope.cli``:
``cli.py`` sits on top, imports the command modules (which register their commands on these apps) and
turns errors into exit codes. A new command module imports its app from here.
"""
from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="tariffscope",
    help="Trade imbalances and US tariff policy from official data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Load, pull and inspect data in the warehouse.", no_args_is_help=True)
measures_app = typer.Typer(help="The tariff measure catalogue: list, show, check against the HTS.", no_args_is_help=True)
scenarios_app = typer.Typer(help="Scenario files: list, show, validate.", no_args_is_help=True)
gravity_app = typer.Typer(help="Structural gravity: PPML estimation.", no_args_is_help=True)
ge_app = typer.Typer(help="General-equilibrium counterfactuals.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(measures_app, name="measures")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(gravity_app, name="gravity")
app.add_typer(ge_app, name="ge")

# markup=False: text that comes from the user or from data files (a country typed as '[/x]', a source title)
# is printed as it is, never read as Rich markup; styling is given with Text/style= where wanted.
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)
