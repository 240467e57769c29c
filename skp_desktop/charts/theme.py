"""Light and dark chart themes on the Okabe–Ito colour-blind-safe palette (no matplotlib here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from skp_desktop.domain.rag import Rag
from skp_desktop.domain.vocabulary import MISSING, NOT_DUE, ReturnState

# Okabe & Ito (2008), "Color Universal Design": told apart with the common colour deficiencies.
OKABE_ITO = MappingProxyType(
    {
        "black": "#000000",
        "orange": "#E69F00",
        "sky blue": "#56B4E9",
        "bluish green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish purple": "#CC79A7",
    }
)

# matplotlib marker codes for the RAG shapes that Rag.shape names: ● circle, ▲ triangle, ■ square.
RAG_MARKERS: Mapping[Rag, str] = MappingProxyType({Rag.GREEN: "o", Rag.AMBER: "^", Rag.RED: "s"})

# A point with no RAG rating (no target, or a neutral indicator): a small diamond, not a RAG shape.
NEUTRAL_MARKER = "D"
NEUTRAL_SHAPE = "◆"
REVISED_SHAPE = "○"

# Completeness states of a return, in the order a return moves through them.
RETURN_STATES = (
    MISSING,
    ReturnState.DRAFT,
    ReturnState.SUBMITTED,
    ReturnState.RETURNED,
    ReturnState.ACCEPTED,
)
# NOT_DUE (a quarter the service's return asks nothing for): a completeness matrix shows it,
# but it is not a state of a return, and has no fill.
STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        MISSING: "✗ missing",
        ReturnState.DRAFT: "✎ draft",
        ReturnState.SUBMITTED: "➤ submitted",
        ReturnState.RETURNED: "↩ returned",
        ReturnState.ACCEPTED: "✓ accepted",
        NOT_DUE: "— not due",
    }
)
STATE_MEANINGS: Mapping[str, str] = MappingProxyType(
    {
        MISSING: "no return yet",
        ReturnState.DRAFT: "being filled in",
        ReturnState.SUBMITTED: "sent, awaiting checks",
        ReturnState.RETURNED: "queried, sent back",
        ReturnState.ACCEPTED: "checked and accepted",
        NOT_DUE: "nothing asked for that quarter",
    }
)


@dataclass(frozen=True)
class ChartTheme:
    """Every colour a chart uses, so that no chart sets colours in matplotlib's global rcParams."""

    name: str
    figure_background: str
    axes_background: str
    text: str
    muted_text: str
    grid: str
    spine: str
    values: str  # the line through the indicator's values
    target: str
    baseline: str
    comparators: tuple[str, ...]
    rag_fill: Mapping[Rag, str]  # marker fill
    rag_text: Mapping[Rag, str]  # words: enough contrast to read as text on the background
    marker_edge: str  # outline that keeps a RAG shape's outline visible against the line
    state_fill: Mapping[str, str] = field(default_factory=dict)  # heatmap cell backgrounds
    dark: bool = False

    def rag_marker(self, rag: Rag) -> str:
        """The matplotlib marker for a RAG level."""
        return RAG_MARKERS[rag]


LIGHT = ChartTheme(
    name="light",
    figure_background="#FFFFFF",
    axes_background="#FFFFFF",
    text="#1A1A1A",
    muted_text="#555555",
    grid="#DEDEDE",
    spine="#8C8C8C",
    values=OKABE_ITO["blue"],
    target="#1A1A1A",
    baseline="#6E6E6E",
    comparators=(OKABE_ITO["sky blue"], OKABE_ITO["reddish purple"], "#8C8C8C"),
    rag_fill=MappingProxyType(
        {
            Rag.GREEN: OKABE_ITO["bluish green"],
            Rag.AMBER: OKABE_ITO["orange"],
            Rag.RED: OKABE_ITO["vermillion"],
        }
    ),
    # The same hues darkened to 4.5:1 on white; ui/rag_style.py uses these for text too.
    rag_text=MappingProxyType({Rag.GREEN: "#007A4D", Rag.AMBER: "#B35C00", Rag.RED: "#C0362C"}),
    marker_edge="#1A1A1A",
    state_fill=MappingProxyType(
        {
            MISSING: "#F7CBB0",  # vermillion tint
            ReturnState.DRAFT: "#F6EFA6",  # yellow tint
            ReturnState.SUBMITTED: "#C9E6F8",  # sky blue tint
            ReturnState.RETURNED: "#EDCDE0",  # reddish purple tint
            ReturnState.ACCEPTED: "#B3E3D2",  # bluish green tint
        }
    ),
)

DARK = ChartTheme(
    name="dark",
    figure_background="#1E1F22",
    axes_background="#26282C",
    text="#EDEDED",
    muted_text="#B4B4B4",
    grid="#3A3D42",
    spine="#70737A",
    values=OKABE_ITO["sky blue"],
    target="#EDEDED",
    baseline="#A0A0A0",
    comparators=(OKABE_ITO["yellow"], OKABE_ITO["reddish purple"], "#A0A0A0"),
    # Brighter variants of the same hues: the light ones are too dim on a dark background.
    rag_fill=MappingProxyType({Rag.GREEN: "#4FD1A1", Rag.AMBER: "#F0A848", Rag.RED: "#FF7B72"}),
    rag_text=MappingProxyType({Rag.GREEN: "#4FD1A1", Rag.AMBER: "#F0A848", Rag.RED: "#FF7B72"}),
    marker_edge="#111214",
    state_fill=MappingProxyType(
        {
            MISSING: "#7A3514",
            ReturnState.DRAFT: "#66601C",
            ReturnState.SUBMITTED: "#1D4E6E",
            ReturnState.RETURNED: "#6B3458",
            ReturnState.ACCEPTED: "#0E5A44",
        }
    ),
    dark=True,
)

THEMES: Mapping[str, ChartTheme] = MappingProxyType({"light": LIGHT, "dark": DARK})


def get_theme(theme: str | ChartTheme) -> ChartTheme:
    """The theme called `theme` ("light" or "dark"); a ChartTheme is returned as it is."""
    if isinstance(theme, ChartTheme):
        return theme
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(
            f"unknown chart theme {theme!r}: choose one of {', '.join(sorted(THEMES))}"
        ) from None


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a "#RRGGBB" colour: 0 is black, 1 is white."""
    text = colour.lstrip("#")
    channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
