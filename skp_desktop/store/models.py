"""SQLAlchemy 2 typed models: the whole schema, owned by Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from skp_desktop.store.types import UtcDateTime

# Who acted (the audit trail's actor, created_by, …): a longer name is refused where it enters
# (services/database.checked_actor), since PostgreSQL would refuse it and SQLite keep it whole.
ACTOR_LENGTH = 100
# Named constraints so that Alembic batch migrations on SQLite can find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organisation(Base):
    """One of the partnership's responsible authorities."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(Text)
    services: Mapped[list[Service]] = relationship(back_populates="organisation")


class Service(Base):
    """A team that owns indicators and submits returns."""

    __tablename__ = "services"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    source: Mapped[str | None] = mapped_column(Text)
    # A period code: from this period on the service sends no returns (its history stays).
    retired_from: Mapped[str | None] = mapped_column(String(16))
    organisation: Mapped[Organisation] = relationship(back_populates="services")


class Theme(Base):
    """A Council Plan priority or an SKP statutory duty."""

    __tablename__ = "themes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    commitment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)


class DefinitionsVersion(Base):
    """A published set of indicator definitions, in force from a period on."""

    __tablename__ = "definitions_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    applies_from: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    note: Mapped[str | None] = mapped_column(Text)


class Indicator(Base):
    """The stable identity of an indicator or context measure; its wording lives in versions."""

    __tablename__ = "indicators"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="indicator")  # or "context"
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    theme: Mapped[Theme] = relationship()
    service: Mapped[Service | None] = relationship()


class IndicatorDefinition(Base):
    """What an indicator meant in one definitions version."""

    __tablename__ = "indicator_definitions"
    __table_args__ = (UniqueConstraint("indicator_id", "definitions_version_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    definitions_version_id: Mapped[int] = mapped_column(ForeignKey("definitions_versions.id"))
    title: Mapped[str] = mapped_column(String(400))
    level: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(32))
    polarity: Mapped[str] = mapped_column(String(32))
    frequency: Mapped[str] = mapped_column(String(16))
    decimals: Mapped[int] = mapped_column(Integer)
    has_fraction: Mapped[bool] = mapped_column(default=False)
    numerator_label: Mapped[str | None] = mapped_column(String(200))
    denominator_label: Mapped[str | None] = mapped_column(String(200))
    # Decimals are stored as canonical text, never float (docs/architecture.md, "Data model").
    min_value: Mapped[str | None] = mapped_column(String(40))
    max_value: Mapped[str | None] = mapped_column(String(40))
    amber_tolerance: Mapped[str] = mapped_column(String(40), default="0")
    change_warning_percent: Mapped[str | None] = mapped_column(String(40))
    small_number_threshold: Mapped[int | None] = mapped_column(Integer)
    definition: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    source_document: Mapped[str | None] = mapped_column(String(200))
    indicator: Mapped[Indicator] = relationship()
    version: Mapped[DefinitionsVersion] = relationship()


class Target(Base):
    """A target for an indicator, from a financial year on (or standing when no year)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("indicator_id", "applies_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    applies_from: Mapped[str] = mapped_column(String(16))  # financial-year code, e.g. FY2024-25
    value: Mapped[str] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(Text)
    indicator: Mapped[Indicator] = relationship()


class Baseline(Base):
    """Where we are now: the figure an indicator is measured from."""

    __tablename__ = "baselines"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), unique=True)
    value: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    comparators_note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    indicator: Mapped[Indicator] = relationship()


class Return(Base):
    """One revision of one service's return for one period."""

    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("service_id", "period", "revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    period: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # draft, submitted, accepted, returned
    definitions_version_id: Mapped[int] = mapped_column(ForeignKey("definitions_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the canonical payload (excel/payload.py) the revision was imported from.
    payload_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    service: Mapped[Service] = relationship()
    definitions_version: Mapped[DefinitionsVersion] = relationship()
    values: Mapped[list[Value]] = relationship(back_populates="return_", order_by="Value.id")


class Value(Base):
    """What a return holds for one indicator."""

    __tablename__ = "values"
    __table_args__ = (UniqueConstraint("return_id", "indicator_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    numerator: Mapped[str | None] = mapped_column(String(40))
    denominator: Mapped[str | None] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(String(40))
    symbol: Mapped[str | None] = mapped_column(String(8))
    commentary: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    return_: Mapped[Return] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()


class ImportedFile(Base):
    """A file a coordinator imported, kept whole with its digest and outcome."""

    __tablename__ = "imported_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    imported_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))


class AuditEvent(Base):
    """An append-only, hash-chained record of one change (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # a return's newest state or value event (merge, board pack, the server's rules)
        Index("ix_audit_events_return_uuid_indicator", "return_uuid", "indicator", "id"),
        Index("ix_audit_events_actor_id", "actor", "id"),  # the History filtered by actor
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(40))
    # The event names what it touched by code, so it reads (and verifies) on its own.
    service: Mapped[str | None] = mapped_column(String(32), index=True)
    period: Mapped[str | None] = mapped_column(String(16), index=True)
    revision: Mapped[int | None] = mapped_column(Integer)
    return_uuid: Mapped[str | None] = mapped_column(String(36))
    indicator: Mapped[str | None] = mapped_column(String(32), index=True)
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    # unique: two events can never claim the same predecessor, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class DueDate(Base):
    """The date a quarter's returns are due by, as the coordinator set it."""

    __tablename__ = "due_dates"
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # quarter code
    due_on: Mapped[date] = mapped_column(Date)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(100))


class ComparatorValue(Base):
    """A figure to compare an indicator with (e.g. the London average) for one period."""

    __tablename__ = "comparator_values"
    __table_args__ = (UniqueConstraint("indicator_id", "series", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    series: Mapped[str] = mapped_column(String(60))  # "London", "England"
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(
        String(40)
    )  # canonical decimal text, in the indicator's unit
    source: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(100))
    indicator: Mapped[Indicator] = relationship()


class ServiceForm(Base):
    """A service's return form as the coordinator set it: overrides forms/<CODE>.toml."""

    __tablename__ = "service_forms"
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    # canonical JSON: {"title", "intro", "sections": [{"title", "indicators": [{"code", "help"}]}]}
    layout: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class ContextValue(Base):
    """A later figure of a context measure (a "Where are we now?" figure) for one period."""

    __tablename__ = "context_values"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(40))  # canonical decimal text, the measure's unit
    source: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    indicator: Mapped[Indicator] = relationship()


class SigningKey(Base):
    """A public key this database trusts to sign files, and for what (services/trust/).

    `role`: `own` (this installation's key: every service, templates, feedback and packs),
    `service` (enrolled for the services listed in signing_key_services) or `coordinator`
    (the coordinator's key, pinned on a service's database). A revoked or replaced key stays,
    so the files it signed before can still be checked.
    """

    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of the 32 raw bytes
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    trusted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trusted_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by: Mapped[str | None] = mapped_column(String(64))  # a rotation's new fingerprint
    services: Mapped[list[SigningKeyService]] = relationship(
        back_populates="key", cascade="all, delete-orphan", order_by="SigningKeyService.service"
    )


class SigningKeyService(Base):
    """A service a key is enrolled for: its returns signed by that key are believed."""

    __tablename__ = "signing_key_services"
    key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(32), primary_key=True)  # service code
    key: Mapped[SigningKey] = relationship(back_populates="services")


class ReturnSignature(Base):
    """How an imported revision's file was signed: by whom, or why it was taken unsigned."""

    __tablename__ = "return_signatures"
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # signed, template, unsigned
    signed_by: Mapped[str | None] = mapped_column(String(64))  # fingerprint
    signer_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)  # why an unsigned file was taken
