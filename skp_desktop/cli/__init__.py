"""`skp-returns`: the command line over the same use cases as the GUI (docs/contracts.md).

One module per group of commands (database, returns, history, publications, exchange, desk,
definitions, keys, partnership); each declares its commands' arguments and help beside their
handlers with `registry.command`. `main.py` builds the parser from them and maps errors to exit
statuses. The console script is `skp_desktop.cli:main`.
"""

from __future__ import annotations

from skp_desktop.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
