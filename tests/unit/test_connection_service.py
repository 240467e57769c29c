"""The shared database's address: the URL made from the connection form, and what is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from skp_desktop.domain.errors import StoreUnavailable, ValidationError
from skp_desktop.services.connection import (
    LoginRefused,
    ServerAddress,
    address_of,
    check_connection,
    is_server,
    remembered,
    server_url,
)
from skp_desktop.services.database import open_database, same_database

ADDRESS = ServerAddress(
    host="skp-db.kingston.gov.uk", port=6543, database="skp", user="hana", ssl_mode="require"
)


def test_a_server_address_and_password_make_a_url_that_reads_back_as_typed() -> None:
    url = server_url(ADDRESS, "p@ss:w/rd#")
    back = make_url(url.render_as_string(hide_password=False))
    assert (back.drivername, back.username, back.password) == (
        "postgresql+psycopg",
        "hana",
        "p@ss:w/rd#",
    )
    assert (back.host, back.port, back.database, dict(back.query)) == (
        "skp-db.kingston.gov.uk",
        6543,
        "skp",
        {"sslmode": "require"},
    )
    assert address_of(url) == ADDRESS


def test_what_is_remembered_never_holds_the_password() -> None:
    url = server_url(ADDRESS, "s3cret")
    kept = remembered(url)
    assert "s3cret" not in kept and "***" not in kept
    assert kept == "postgresql+psycopg://hana@skp-db.kingston.gov.uk:6543/skp?sslmode=require"
    assert address_of(kept) == ADDRESS and is_server(kept) and is_server(url)
    assert not is_server("/home/hana/skp.sqlite3")


def test_a_missing_field_is_named() -> None:
    with pytest.raises(ValidationError, match="user name") as raised:
        server_url(ServerAddress(host="db", user=" "))
    assert raised.value.field == "user"
    with pytest.raises(ValidationError, match="name of the database"):
        server_url(ServerAddress(host="db", user="hana", database=""))


def test_the_same_database_is_known_with_or_without_its_password(database_file: Path) -> None:
    db = open_database(database_file)
    try:
        assert same_database(str(database_file), db)
        assert not same_database(str(database_file.with_name("other.sqlite3")), db)
    finally:
        db.dispose()


@pytest.mark.postgresql
def test_checking_a_server_says_what_it_holds_and_a_missing_password_is_a_login_refusal(
    postgres_server, postgres_url: str
) -> None:
    url = make_url(postgres_url)
    found = check_connection(url)
    assert (found.schema, found.user, found.usable) == ("ready", "skp_admin", True)
    assert found.message.startswith("Connected to ") and "It holds SKP Returns" in found.message
    assert (found.role, found.actor) == ("owner", "skp_admin")
    assert "Your role there: the database's owner" in found.message
    db = open_database(url._replace(password="anything"))  # trust: the password is not asked
    try:
        assert same_database(postgres_url, db)
    finally:
        db.dispose()

    postgres_server.password_login("unit_pw_login", "right", "skp_auditor")
    with pytest.raises(LoginRefused, match="asks for a password"):
        check_connection(make_url(postgres_server.url(url.database or "", user="unit_pw_login")))
    wrong = make_url(postgres_server.url(url.database or "", user="unit_pw_login")).set(
        password="wrong"
    )
    with pytest.raises(LoginRefused, match="password authentication failed"):
        check_connection(wrong)
    missing = make_url(postgres_server.url("no_such_database"))
    with pytest.raises(StoreUnavailable, match="There is no database"):
        check_connection(missing)
