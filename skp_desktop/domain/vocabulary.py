"""The words the program stores and compares: return states and what each allows, import
statuses, audit actions.

Each is a `StrEnum`, so a member *is* its string: stored in the database, written in JSON and
the audit chain, and compared with what a file or a query gives, exactly as the plain string
was. Code names the member (`ReturnState.DRAFT`, `AuditAction.VALUE_SET`) and never repeats the
literal; `tests/unit/test_vocabulary.py` keeps it so.
"""

from __future__ import annotations

from enum import StrEnum


class ReturnState(StrEnum):
    """The state of one revision of a return (`returns.state`)."""

    DRAFT = "draft"  # being filled in; the only state whose values change
    SUBMITTED = "submitted"  # sent, awaiting the coordinator's checks
    ACCEPTED = "accepted"  # checked and accepted by the coordinator
    RETURNED = "returned"  # sent back with queries; reopening answers them

    def allows(self, step: Step) -> bool:
        return step in ALLOWED[self]


# The state word a return's view shows before revision 1 exists (typing a value starts it).
NOT_STARTED = "not started"
# The completeness word for a return that is due and not started anywhere.
MISSING = "missing"
# The completeness word for a quarter the service's return asks nothing for: not a state of a
# return (nothing is owed), so it has no fill and is never chased.
NOT_DUE = "not due"


class Step(StrEnum):
    """What a person may do with a return; `ALLOWED` says in which states."""

    EDIT = "edit"  # change a value, a commentary or an explanation
    SUBMIT = "submit"
    REOPEN = "reopen"  # start revision n+1, with a reason
    EXPORT = "export"  # write the return file to send on
    EXPORT_FEEDBACK = "export feedback"  # write the coordinator's queries back to the service
    REVIEW = "review"  # accept, or return with queries (the coordinator)


# The one statement of the workflow: the services refuse, and the GUI disables, whatever is
# not listed here. A view's state may also be NOT_STARTED (only editing: it makes revision 1).
ALLOWED: dict[str, frozenset[Step]] = {
    NOT_STARTED: frozenset({Step.EDIT}),
    ReturnState.DRAFT: frozenset({Step.EDIT, Step.SUBMIT}),
    ReturnState.SUBMITTED: frozenset({Step.REOPEN, Step.EXPORT, Step.REVIEW}),
    ReturnState.ACCEPTED: frozenset({Step.REOPEN, Step.EXPORT}),
    ReturnState.RETURNED: frozenset({Step.REOPEN, Step.EXPORT_FEEDBACK}),
}


def allows(state: str | None, step: Step) -> bool:
    """Whether a return in `state` (a stored state, NOT_STARTED, or None for no return at all)
    allows `step`."""
    return state is not None and step in ALLOWED.get(state, frozenset())


class ImportStatus(StrEnum):
    """What importing (or synchronising) one return revision does; `imported_files.status`."""

    ACCEPTED = "ACCEPTED"  # stored (a new revision, or the answer to queries)
    DUPLICATE = "DUPLICATE"  # the same revision with the same values is held: nothing to do
    STALE = "STALE"  # older than the revision held: ignored
    CONFLICT = "CONFLICT"  # the same revision with different values: a person decides
    REJECTED = "REJECTED"  # not usable; the reason names the sheet and cell


# The command line exits 1 when an import has any of these.
FAILED_IMPORTS = frozenset({ImportStatus.REJECTED, ImportStatus.CONFLICT})


class PackStatus(StrEnum):
    """What importing a definitions pack does."""

    IMPORTED = "IMPORTED"
    UP_TO_DATE = "UP TO DATE"
    REFUSED = "REFUSED"


# `imported_files.status` of a definitions pack (a return file's is its ImportStatus).
PACK_FILE_STATUS = "DEFINITIONS"


class AuditAction(StrEnum):
    """Every action recorded in the audit chain (`audit_events.action`). On PostgreSQL,
    migration 0006's ACTION_ROLES says who may record each; a new action needs a row there (in
    a new migration) or the server refuses it to everyone but the owner."""

    CATALOGUE_LOAD = "catalogue.load"  # the default catalogue loaded into a new database
    VALUE_SET = "value.set"  # one value (and its commentary, explanation) entered or changed
    RETURN_CREATE = "return.create"  # revision 1 started as a draft
    RETURN_SUBMIT = "return.submit"
    RETURN_REOPEN = "return.reopen"  # revision n+1 started, with a reason
    RETURN_IMPORT = "return.import"  # a revision stored from a return file
    RETURN_SYNC = "return.sync"  # a revision copied from another database
    RETURN_ACCEPT = "return.accept"
    RETURN_RETURN = "return.return"  # returned to the service with queries
    QUERY_ASK = "query.ask"
    QUERY_ANSWER = "query.answer"
    DEFINITIONS_PUBLISH = "definitions.publish"
    DEFINITIONS_IMPORT = "definitions.import"  # a definitions pack imported
    DEFINITIONS_CHANGE = "definitions.change"  # one indicator's definition changed in a version
    DEFINITIONS_ADD = "definitions.add"  # an indicator added
    DEFINITIONS_TARGET = "definitions.target"
    DEFINITIONS_DRAFT = "definitions.draft"  # a draft moved to newly published definitions
    PERIOD_DUE = "period.due"  # a due date set
    COMPARATOR_SET = "comparator.set"
    KEY_TRUST = "key.trust"  # a key enrolled (or this installation's own, at creation)
    KEY_REVOKE = "key.revoke"
    KEY_ROTATE = "key.rotate"  # a key replaced by the one its rotation statement names
    KEY_PIN = "key.pin"  # the coordinator's key pinned on a service's database
    SERVICE_ADD = "service.add"
    SERVICE_RENAME = "service.rename"
    SERVICE_RETIRE = "service.retire"
    SERVICE_FORM = "service.form"  # a return form the coordinator laid out
    CONTEXT_SET = "context.set"  # a later figure of a context measure
