"""The index behind the History's text search (migration 0009), and the query that finds by it.

The History's text search is `LIKE '%text%'` (ILIKE on PostgreSQL) on an event's new and old
values, its reason and its source. Without an index that reads every event, which at ten years
of the partnership (two million events) costs seconds. Migration 0009 adds:

- SQLite: `audit_search`, an FTS5 table with the `trigram` tokenizer over those four columns
  of `audit_events` (external content: it holds only the index, and reads the text from
  `audit_events`), filled when made and kept in step by an AFTER INSERT trigger (events are
  never updated or deleted). `detail=none`: the index says which events hold each trigram,
  not where, a sixth of the size of a full index; the exact test is the LIKE itself.
- PostgreSQL: a GIN trigram index (pg_trgm) on the same columns, which the planner uses for
  ILIKE '%text%' on its own: nothing here is needed to query it.

On SQLite the search is then: the events whose text holds trigrams covering every run of
three or more characters between the pattern's wildcards (`search_terms`), newest first from
the index, each then tested with the same LIKE as before. The index only narrows the candidates,
so the results are exactly LIKE's (its case rules included). A search without such a run
("ab", "a%b") has nothing to look up and reads the events as before.

The index is not part of the audit chain: `verify` reads `audit_events` only.
"""

from __future__ import annotations

from typing import cast
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    bindparam,
    column,
    literal_column,
    table,
)
from sqlalchemy.sql.operators import ColumnOperators

SEARCH_TABLE = "audit_search"
SEARCH_TRIGGER = "audit_search_after_insert"
TRIGRAM_INDEX = "ix_audit_events_text_trgm"  # PostgreSQL's
SEARCHED_COLUMNS = ("new", "old", "reason", "source")  # of audit_events
TRIGRAM = 3
WILDCARDS = ("%", "_")  # LIKE's, with no ESCAPE character

# The FTS5 table as a FROM element: its rowid is the event's id; its hidden column named like
# the table takes MATCH.
audit_search = table(SEARCH_TABLE, column("rowid", Integer), column(SEARCH_TABLE))


def _covering(run: str) -> list[str]:
    """Trigrams of `run` that between them hold each of its characters: every third one, and
    the last ("queried": que, rie, ied). Fewer lists to intersect than all five, and the
    candidates they leave are few; LIKE tests each anyway."""
    if len(run) < TRIGRAM:
        return []
    starts = [*range(0, len(run) - TRIGRAM, TRIGRAM), len(run) - TRIGRAM]
    return [run[i : i + TRIGRAM] for i in starts]


def search_terms(pattern: str) -> str | None:
    """The FTS5 query matching every event that `LIKE pattern` may match, or None.

    Each run of three or more characters between wildcards must be in the text, so each of its
    trigrams is; the query asks for trigrams covering each run (quoted, so that no character
    is FTS5 syntax). None when there is no such run: the index cannot narrow that search.
    """
    runs = [pattern.split("\x00", 1)[0]]  # SQLite's LIKE reads a pattern up to a NUL
    for wildcard in WILDCARDS:
        runs = [piece for run in runs for piece in run.split(wildcard)]
    trigrams = dict.fromkeys(trigram for run in runs for trigram in _covering(run))
    if not trigrams:
        return None
    return " AND ".join('"' + trigram.replace('"', '""') + '"' for trigram in trigrams)


def matches(terms_param: str) -> ColumnElement[bool]:
    """`audit_search MATCH :terms_param`, for a statement joined to `audit_search`."""
    return audit_search.c[SEARCH_TABLE].op("MATCH", return_type=Boolean)(bindparam(terms_param))


# Per engine: a database open at the newest schema keeps or lacks the index while it is open
# (a restore happens with the database closed, and the file is opened again after it).
_FOUND: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


# PostgreSQL: how many of the newest events a text search reads without the trigram index
# before it asks the index for older ones (services/history.py says why).
RECENT_EVENTS = 2000


def unindexed(column: ColumnOperators) -> ColumnOperators:
    """The column's value as an expression no index serves (`column || ''`: the same text, or
    NULL), so that the planner reads rows in the order it was asked for instead."""
    return cast(ColumnOperators, column.op("||")(literal_column("''")))


def has_search_index(connection: Connection) -> bool:
    """Whether this SQLite database has the FTS5 index (migration 0009 makes it unless the
    SQLite the program runs on lacks FTS5's trigram tokenizer); asked once per engine."""
    found = _FOUND.get(connection.engine)
    if found is None:
        found = bool(
            connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                (SEARCH_TABLE,),
            ).scalar()
        )
        _FOUND[connection.engine] = found
    return found
