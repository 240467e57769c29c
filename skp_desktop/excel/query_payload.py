"""The signed queries of a feedback file and the signed answers of the return that follows.

Each is canonical JSON in `_meta` (`queries` or `answers`, continued in `queries_2`, … like the
payload) with the hex SHA-256 of its UTF-8 bytes beside it (`queries_sha256`, `answers_sha256`).
"""

from __future__ import annotations

import json
from typing import Any

from skp_desktop.domain.errors import ValidationError
from skp_desktop.excel.return_data import QueryLine, QuerySet

# A question or an answer is a few sentences; this keeps a file's _meta small whatever is typed.
MAX_QUERY_TEXT = 4000


def _dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_queries(queries: QuerySet) -> str:
    """`queries`: the revision asked about, who asked, when, why, and each question by code."""
    return _dumps(
        {
            "revision": queries.revision,
            "reason": queries.reason or None,
            "asked_by": queries.asked_by or None,
            "asked_at": queries.asked_at or None,
            "queries": sorted(
                ({"code": line.code, "question": line.question} for line in queries.lines),
                key=lambda item: item["code"] or "",
            ),
        }
    )


def canonical_answers(answers: QuerySet) -> str:
    """`answers`: the revision whose queries are answered, and each question with its answer."""
    return _dumps(
        {
            "revision": answers.revision,
            "answers": sorted(
                (
                    {"code": line.code, "question": line.question, "answer": line.answer}
                    for line in answers.lines
                ),
                key=lambda item: item["code"] or "",
            ),
        }
    )


def _text(item: dict[str, Any], name: str, *, required: bool, where: str) -> str | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(f"{where} has no {name} as text", field=where)
    if len(value) > MAX_QUERY_TEXT:
        raise ValidationError(
            f"the {name} on {item.get('code')} is longer than {MAX_QUERY_TEXT:,} characters",
            field=where,
        )
    return value


def _parse(text: str, key: str, items_key: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"{key} is not valid JSON ({exc})", field=key) from None
    if not isinstance(data, dict) or not isinstance(data.get(items_key), list):
        raise ValidationError(f"{key} does not list its {items_key}", field=key)
    revision = data.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise ValidationError(f"{key} does not say which revision it is about", field=key)
    items = data[items_key]
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise ValidationError(f"{key} holds an item without an indicator code", field=key)
        if item["code"] in seen:
            raise ValidationError(f"{key} has {item['code']} twice", field=key)
        seen.add(item["code"])
    return data, items


def parse_queries(text: str) -> QuerySet:
    """The queries of a feedback file; ValidationError when they are not the canonical shape."""
    data, items = _parse(text, "queries", "queries")
    return QuerySet(
        revision=data["revision"],
        reason=_text(data, "reason", required=False, where="queries"),
        asked_by=_text(data, "asked_by", required=False, where="queries"),
        asked_at=_text(data, "asked_at", required=False, where="queries"),
        lines=tuple(
            QueryLine(
                code=item["code"],
                question=_text(item, "question", required=True, where="queries") or "",
            )
            for item in items
        ),
    )


def parse_answers(text: str) -> QuerySet:
    """The answers of a return file; ValidationError when they are not the canonical shape."""
    data, items = _parse(text, "answers", "answers")
    return QuerySet(
        revision=data["revision"],
        lines=tuple(
            QueryLine(
                code=item["code"],
                question=_text(item, "question", required=True, where="answers") or "",
                answer=_text(item, "answer", required=True, where="answers"),
            )
            for item in items
        ),
    )
