"""The click command behind the Typer app, for the documentation's CLI reference (mkdocs-click), so the
reference is generated from the commands themselves and cannot drift from them."""
from __future__ import annotations

import typer

from . import app

command = typer.main.get_command(app)
