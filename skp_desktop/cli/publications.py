"""What is written for people to read: chart, board-pack, merge-export."""

from __future__ import annotations

import argparse

from skp_desktop.cli.common import left_out, merge_service, trends
from skp_desktop.cli.registry import EXIT_OK, arg, command, one_of
from skp_desktop.services.database import Database


@command(
    "chart",
    "write an indicator's trend chart as PNG, SVG or PDF",
    arg("--indicator", required=True),
    arg("--service"),
    arg("--out", required=True, metavar="FILE.png|.svg|.pdf"),
)
def cmd_chart(args: argparse.Namespace, db: Database) -> int:
    written = trends.export_trend_chart(db, args.indicator, args.out, service=args.service)
    print(f"Wrote {written}")
    return EXIT_OK


@command(
    "board-pack",
    "write the board pack for a quarter as one PDF",
    arg("--period", required=True, help="quarter code, e.g. FY2026-27-Q1"),
    one_of(
        arg("--service", help="only this service's indicators"),
        arg("--theme", help="only this theme's indicators, e.g. SAFER-P3"),
    ),
    arg("--out", required=True, metavar="FILE.pdf"),
)
def cmd_board_pack(args: argparse.Namespace, db: Database) -> int:
    from skp_desktop.services import board_pack  # loads matplotlib: only when asked for

    made = board_pack.export_board_pack(
        db, args.period, args.out, service=args.service, theme=args.theme
    )
    print(
        f"Wrote {made.path}: board pack for {made.period_label} ({made.scope}), "
        f"{made.indicators} indicators on {made.pages} pages"
    )
    return left_out(made.left_out)


@command(
    "merge-export",
    "write the partnership workbook from the accepted returns (default: the last four "
    "quarters, up to the one due now)",
    arg("--out", required=True, metavar="FILE.xlsx"),
    arg("--from", dest="first", metavar="P", help="first quarter, e.g. FY2024-25-Q1"),
    arg("--to", dest="last", metavar="P", help="last quarter, e.g. FY2024-25-Q4"),
)
def cmd_merge_export(args: argparse.Namespace, db: Database) -> int:
    result = merge_service.merge_export(db, out=args.out, first=args.first, last=args.last)
    print(f"Wrote {result.path}: {result.describe()} (sha256 {result.sha256})")
    return left_out([item.line for item in result.unbacked])
