"""Thirty people on the shared server at the deadline: a load test on PostgreSQL.

A throwaway server (tests/postgres_server.py, fsync on, Unix socket only) holds the generated
partnership (bench/partnership.py: ten years unless SKP_BENCH_LOAD_YEARS says otherwise).
Thirty client processes, each with its own login and role, work on it for SKP_BENCH_LOAD_SECONDS
(120) with a deadline day's mix:

- 18 service managers (a login per manager, mapped to its service in `service_roles`; three
  services have two) type their service's FY2026-27 Q2 return (and its months, for services
  with monthly indicators) a value at a time, submit it, and reopen it to correct it;
- 6 coordinators import return files, accept submitted returns (a few go back with a query)
  and merge a year now and then;
- 6 auditors page the History with a filter (service, indicator, actor, period, text); one of
  them verifies the whole chain once.

Before the run each person has the app open on their page, and each manager has typed a
first value (logged as "first save (before the run)"): the run times the deadline's work,
not thirty programs' first queries at once. Each client pauses between actions as people do.
Refusals the rules intend (a return someone else just submitted, a file already imported, a
return the other coordinator accepted first) are counted, not failures; "busy" (a deadlock or
serialisation failure reported by the server) is retried where the action is safe to repeat
(saves set a value, so repeating one changes nothing; reads), and counted. After each run:
every acknowledged save, submit, accept and import is in the history; after the last, `verify`
passes over the whole chain.

SKP_BENCH_LOAD_ROUNDS (1) runs the plain load that many times, one after the other on the same
server, for the spread. Then the same again for SKP_BENCH_LOAD_KILL_SECONDS (45) while the
server is killed (`pg_ctl stop -m immediate`) a third of the way in and started again 3 s
later: clients say that the server went away, carry on when it is back, and nothing
acknowledged is lost (0 leaves that phase out).

The server's data folder with the partnership copied in (a few minutes of COPY and index
building) is kept in bench/cache/, keyed by the generator, the schema head and the server's
major version; later runs start a server on a copy of it (seconds), so every run begins
from the same data.

`python -m bench.load` prints the whole report; `run()` gives the rows of `make bench`.
SKP_BENCH_LOAD_KEEP_LOGS=FOLDER keeps the clients' logs there (one JSON line per action, with
its duration `s` and its end `at`, Unix time), to see when the slow ones happened.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.results import Result

SECONDS = float(os.environ.get("SKP_BENCH_LOAD_SECONDS", "120"))
KILL_SECONDS = float(os.environ.get("SKP_BENCH_LOAD_KILL_SECONDS", "45"))  # make bench < 10 min
YEARS = int(os.environ.get("SKP_BENCH_LOAD_YEARS", "10"))
# Rounds of the plain load on the one server (copied once): their spread is the measure of a
# machine shared with other work.
ROUNDS = int(os.environ.get("SKP_BENCH_LOAD_ROUNDS", "1"))
MANAGERS, COORDINATORS, AUDITORS = 18, 6, 6
QUARTER = "FY2026-27-Q2"
MONTHS = ("2026-07", "2026-08", "2026-09")
IMPORTED = "FY2026-27-Q1"  # the quarter whose return files the coordinators import
MERGED = ("FY2025-26-Q1", "FY2025-26-Q4")
SAVE_BUDGET = 0.050  # p95 of one save, seconds


# --------------------------------------------------------------------------- the server


@contextlib.contextmanager
def _server(data: Path | None = None) -> Iterator[Any]:
    """The tests' throwaway server (fsync on); with `data`, started on a copy of that data
    folder (a cached server's, stopped cleanly) instead of a new empty one."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from postgres_server import new_server, running_server  # the test suite's throwaway server

    if data is None:
        with running_server(durable=True) as server:
            yield server
        return
    server = new_server()
    folder = server.folder
    try:
        # cp -a keeps the files' owner (the server's account) and modes, as PostgreSQL wants
        subprocess.run(["cp", "-a", str(data), str(folder / "data")], check=True)
        # The copy (~4 GB at ten years) onto the disk before the run, not during it: the
        # kernel wrote it back while the clients worked, and every COMMIT's fsync queued
        # behind it (a run's save p95 was 55 ms while a copy was still going to disk).
        start = time.perf_counter()
        os.sync()
        print(
            f"load: the copy written to disk in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
        _start(server)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _cached_data(years: int, binaries: Path) -> Path:
    """Where the server's data folder holding `years` of the partnership is kept: keyed by
    the generator (its version and seed, and the copy's version), the schema head and the
    server's major version (a data folder only opens on its own), as bench/partnership.py
    keys its files."""
    from bench.partnership import CACHE, COPY_VERSION, GENERATOR_VERSION, SEED
    from skp_desktop.store.schema_head import SCHEMA_HEAD

    version = subprocess.run(
        [str(binaries / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[2]  # "postgres (PostgreSQL) 15.18 (Debian ...)"
    major = version.split(".")[0]
    name = (
        f"load-pg{major}-copy{COPY_VERSION}-v{GENERATOR_VERSION}-schema{SCHEMA_HEAD}"
        f"-seed{SEED}-{years}y"
    )
    return CACHE / name


def _keep(server: Any, cached: Path) -> None:
    """Keep the server's data folder as it is now in `cached` (stopped cleanly for the copy,
    then started again), for the next run to start from instead of copying the rows again."""
    stopped = server._run(
        "pg_ctl", "stop", "--pgdata", str(server.folder / "data"), "--wait", "-m", "fast"
    )
    if stopped.returncode != 0:
        raise RuntimeError(f"the server did not stop: {stopped.stderr}")
    cached.parent.mkdir(exist_ok=True)
    for stale in cached.parent.glob(f"load-pg*-{YEARS}y*"):
        shutil.rmtree(stale)  # an older generator's, schema's or server's
    building = cached.with_name(cached.name + ".building")
    subprocess.run(["cp", "-a", str(server.folder / "data"), str(building)], check=True)
    os.replace(building, cached)
    _start(server)


def _start(server: Any) -> None:
    """Start the server on its data folder (after a kill, or on a copied one), with the
    options tests/postgres_server.py starts a durable one with."""
    options = " ".join(
        [
            "-c listen_addresses=''",
            f"-k {server.socket_dir}",
            "-p 5432",
            "-c max_connections=60",
            "-c shared_buffers=32MB",
        ]
    )
    started = server._run(
        "pg_ctl",
        "start",
        "--pgdata",
        str(server.folder / "data"),
        "--wait",
        "--timeout",
        "60",
        "--log",
        str(server.folder / "server.log"),
        "-o",
        options,
    )
    if started.returncode != 0:
        raise RuntimeError(f"the server did not start: {started.stderr}")


def _logins(server: Any, database: str, services: list[str]) -> list[tuple[str, str, str | None]]:
    """(login, role, service) for each client; logins made in their group roles."""
    clients: list[tuple[str, str, str | None]] = []
    for number in range(MANAGERS):
        clients.append((f"load_sm{number:02d}", "manager", services[number % len(services)]))
    clients += [(f"load_co{n:02d}", "coordinator", None) for n in range(COORDINATORS)]
    clients += [(f"load_au{n:02d}", "auditor", None) for n in range(AUDITORS)]
    groups = {
        "manager": "skp_service_manager",
        "coordinator": "skp_coordinator",
        "auditor": "skp_auditor",
    }
    with server.connect(database) as admin:
        for login, role, service in clients:
            admin.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE {groups[role]}')
            if service:
                admin.execute(
                    "INSERT INTO service_roles (service_code, role_name) VALUES (%s, %s)",
                    [service, login],
                )
    return clients


def _trust_this_key(url: str, folder: Path, services: list[str]) -> None:
    """The coordinators' database trusts the key that signs this run's return files (the run's
    own, `make bench` making a new one each run) for every service, through the app: an
    enrolment file and its fingerprint, as a coordinator enrols a service's key. The database
    came trusting only the key that made the partnership (a run before, or a cached copy)."""
    from skp_desktop.services import trust
    from skp_desktop.services.database import open_database

    path, info = trust.export_enrolment(folder / "load.skp-enrol", name="the load test's files")
    db = open_database(url)
    try:
        if info.fingerprint not in {key.fingerprint for key in trust.list_keys(db)}:
            trust.trust_key(
                db,
                path,
                services=services,
                fingerprint_given=info.fingerprint,
                actor="coordinator.anna",
            )
    finally:
        db.dispose()


def _return_files(folder: Path, services: list[str]) -> list[Path]:
    """A submitted FY2026-27 Q1 return file per service, from a scratch copy of the catalogue."""
    from bench.partnership import add_generated_services
    from skp_desktop.domain.definitions import is_due
    from skp_desktop.domain.periods import parse_period
    from skp_desktop.services import exchange
    from skp_desktop.services.catalogue import list_indicators
    from skp_desktop.services.database import open_database
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import get_return, record_entries, submit_return
    from skp_desktop.services.setup import _demo_value

    source = open_database(folder / "files.sqlite3")
    add_generated_services(source)
    period = parse_period(IMPORTED)
    files = []
    rng = random.Random(IMPORTED)
    try:
        for service in services:
            due = [
                i
                for i in list_indicators(source, service=service)
                if is_due(i.rules.frequency, period)
            ]
            if not due:
                continue
            changes = [EntryChange(i.code, _demo_value(i, 40, rng)) for i in due]
            record_entries(source, service=service, period=IMPORTED, changes=changes, actor="x")
            view = get_return(source, service, IMPORTED)
            explain = {r.code: "checked" for r in view.rows if r.needs_explanation}
            submit_return(source, service=service, period=IMPORTED, actor="x", explanations=explain)
            out = folder / f"{service.lower()}-{IMPORTED}.xlsx"
            exchange.export_return(source, service=service, period=IMPORTED, out=out, actor="x")
            files.append(out)
    finally:
        source.dispose()
    return files


# --------------------------------------------------------------------------- the clients


class _Client:
    """One person: a login, a role, a log of what they did (one JSON line per action)."""

    def __init__(self, url: str, login: str, log: Path, deadline: float, phase: str) -> None:
        from skp_desktop.services.database import open_database

        self.login, self.deadline, self.phase = login, deadline, phase
        seed = f"{login}-{phase}"
        self.rng = random.Random(seed)
        self.log = log.open("a", encoding="utf-8")
        self.db = open_database(url, actor=login)
        self.db.server_identity()  # connected, and the server knows the login

    def act(self, op: str, work: Any, *, retry: bool, ack: dict[str, Any] | None = None) -> Any:
        """Run `work`; log its time and outcome. A busy server is retried when `retry`; a
        server gone away is said and the action dropped (not acknowledged)."""
        from skp_desktop.services.errors import StoreUnavailable

        refusals = _refusal_types()
        attempts = 0
        while True:
            start = time.perf_counter()
            try:
                result = work()
            except refusals as exc:
                self._write(op, start, "refused", str(exc)[:200])
                return None
            except StoreUnavailable as exc:
                text = str(exc)
                if "busy" in text and retry and attempts < 5:
                    attempts += 1
                    self._write(op, start, "busy-retried", text[:200])
                    continue
                self._write(op, start, "unavailable", text[:200])
                print(
                    f"{self.login}: the server is unavailable ({text[:90]}); carrying on",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(1.0)
                return None
            except Exception as exc:
                self._write(op, start, "error", f"{type(exc).__name__}: {exc}"[:400])
                traceback.print_exc()
                return None
            self._write(op, start, "ok", None, ack)
            return result

    def _write(self, op: str, start: float, outcome: str, detail: str | None, ack=None) -> None:  # type: ignore[no-untyped-def]
        record = {
            "op": op,
            "s": time.perf_counter() - start,
            "outcome": outcome,
            "detail": detail,
            "ack": ack if outcome == "ok" else None,
            "login": self.login,
            "at": time.time(),
        }
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()

    def pause(self, low: float, high: float) -> bool:
        """Think for a moment; False once the run is over."""
        time.sleep(self.rng.uniform(low, high))
        return time.monotonic() < self.deadline


def _refusal_types() -> tuple[type[BaseException], ...]:
    """What the rules and validation refuse on purpose (the server's refusals included)."""
    from skp_desktop.services.errors import NotFoundError, StateError, ValidationError
    from skp_desktop.store.postgres import PermissionRefused

    return (StateError, ValidationError, NotFoundError, PermissionRefused)


def _open_the_app(client: _Client, role: str, service: str | None) -> Any:
    """What each person did before the deadline rush: the app open on their page all morning
    (its start is measured in "ten years: start to return grid ready"), a manager's first
    value typed. So the run times their work at the deadline, not thirty programs' and server
    connections' first queries at once: a connection's first save takes 38 ms alone against
    15 ms for the next (the program's statements compiled, the server's catalogue read), and
    0.6 s when seventeen are made at once, queued on the chain's lock, which the first 10 s
    of the run's saves felt (p50 85 ms there, 21 ms after). The manager's first save is logged
    as "first save (before the run)", acknowledged and looked for like the rest. Gives a
    manager's indicators due by period (_due_by_period)."""
    from skp_desktop.services.catalogue import list_indicators
    from skp_desktop.services.completeness import completeness
    from skp_desktop.services.history import history_page
    from skp_desktop.services.returns import get_return

    if role == "coordinator":
        return completeness(client.db, first="FY2026-27-Q1", last=QUARTER)  # the desk
    if role != "manager":
        return history_page(client.db)  # the History page
    assert service
    due_by_period = _due_by_period(list_indicators(client.db, service=service))
    if due_by_period:
        period, due = next(iter(due_by_period.items()))  # the first return they work on
        get_return(client.db, service, period)  # the return grid
        _save(client, service, period, due[0], "first save (before the run)", 0)
    return due_by_period


def _due_by_period(infos: list[Any]) -> dict[str, list[Any]]:
    """The run's periods a service owes a return for (its months, then the quarter), each with
    the indicators due, in form order."""
    from skp_desktop.domain.definitions import is_due
    from skp_desktop.domain.periods import parse_period

    by_period = {
        period: [i for i in infos if is_due(i.rules.frequency, parse_period(period))]
        for period in (*MONTHS, QUARTER)
    }
    return {period: due for period, due in by_period.items() if due}


def _save(client: _Client, service: str, period: str, info: Any, op: str, number: int) -> None:
    """One value typed and saved, its marker in the commentary (looked for afterwards)."""
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import record_entries
    from skp_desktop.services.setup import _demo_value

    marker = f"load {client.login} {client.phase} #{number}"
    fields = {**_demo_value(info, number % 20, client.rng), "commentary": marker}
    client.act(
        op,
        lambda: record_entries(
            client.db,
            service=service,
            period=period,
            changes=[EntryChange(info.code, fields)],
            actor=client.login,
        ),
        retry=True,
        ack={"action": "value.set", "marker": marker},
    )


def _manager(client: _Client, service: str, due_by_period: dict[str, list[Any]]) -> None:
    from skp_desktop.services.returns import get_return, reopen_return, submit_return

    saves = 0
    if not due_by_period:  # nothing due this quarter (a service reporting once a year)
        while client.pause(2.0, 6.0):
            pass
        return
    while True:
        for period, due in due_by_period.items():
            view = client.act(
                "open return", lambda p=period: get_return(client.db, service, p), retry=True
            )
            if view is not None and view.state != "draft" and view.exists:
                client.act(
                    "reopen",
                    lambda p=period: reopen_return(
                        client.db,
                        service=service,
                        period=p,
                        reason="a correction",
                        actor=client.login,
                    ),
                    retry=False,
                    ack={"action": "return.reopen", "service": service, "period": period},
                )
            for info in due:
                if not client.pause(2.0, 6.0):  # a value typed, checked, then the next
                    return
                saves += 1
                _save(client, service, period, info, "save", saves)
            if not client.pause(2.0, 4.0):
                return
            view = client.act(
                "open return", lambda p=period: get_return(client.db, service, p), retry=True
            )
            explain = (
                {r.code: "checked with the team" for r in view.rows if r.needs_explanation}
                if view
                else {}
            )
            client.act(
                "submit",
                lambda p=period, e=explain: submit_return(
                    client.db, service=service, period=p, actor=client.login, explanations=e
                ),
                retry=False,
                ack={"action": "return.submit", "service": service, "period": period},
            )


def _coordinator(client: _Client, files: list[Path], number: int) -> None:
    from datetime import date

    from skp_desktop.services import exchange, review
    from skp_desktop.services.completeness import completeness
    from skp_desktop.services.merge import merge_export

    mine = files[number::COORDINATORS]
    # in the run's folder, beside the client's log, removed with it
    out = Path(client.log.name).with_name(f"{client.login}-merged.xlsx")
    today = date(2026, 11, 20)
    while client.pause(2.0, 5.0):
        choice = client.rng.random()
        if mine and choice < 0.25:
            path = mine.pop(0)
            outcomes = client.act(
                "import file",
                lambda p=path: exchange.import_files(client.db, [p], actor=client.login),
                retry=False,
            )
            if outcomes:
                for outcome in outcomes:
                    if outcome.status == "ACCEPTED":
                        client._write(
                            "import acknowledged",
                            time.perf_counter(),
                            "ok",
                            None,
                            {
                                "action": "return.import",
                                "service": outcome.service,
                                "period": outcome.period,
                            },
                        )
        elif choice < 0.85:
            report = client.act(
                "completeness",
                lambda: completeness(client.db, first="FY2026-27-Q1", last=QUARTER, today=today),
                retry=True,
            )
            waiting = (
                [c for row in report.cells for c in row if c.state == "submitted"] if report else []
            )
            if waiting:
                cell = client.rng.choice(waiting)
                code, period = cell.service.code, cell.period.code
                if client.rng.random() < 0.15:
                    client.act(
                        "return with query",
                        lambda c=code, p=period, r=cell.revision: review.return_with_query(
                            client.db,
                            service=c,
                            period=p,
                            reason="please check",
                            actor=client.login,
                            revision=r,
                        ),
                        retry=False,
                        ack={"action": "return.return", "service": code, "period": period},
                    )
                else:
                    client.act(
                        "accept",
                        lambda c=code, p=period, r=cell.revision: review.accept_return(
                            client.db, service=c, period=p, actor=client.login, revision=r
                        ),
                        retry=False,
                        ack={"action": "return.accept", "service": code, "period": period},
                    )
        elif choice < 0.92:
            client.act(
                "merge a year",
                lambda: merge_export(
                    client.db, out=out, first=MERGED[0], last=MERGED[1], today=today
                ),
                retry=True,
            )


def _verify_by_the_deadline(client: _Client, verify: Any) -> Any:
    """The whole chain verified while the others work. Under this load it can take longer than
    the run (3.6 minutes on two busy cores, against 2): then it is logged as unfinished, with
    how long it had run, and this client stops there rather than keep the run waiting for a
    verify that nobody else is working beside any more. (The chain is verified whole after the
    last phase; what the server did for this verify in the run still weighs on the others.)"""
    import threading

    found: dict[str, Any] = {}
    start = time.perf_counter()

    def work() -> None:
        found["report"] = client.act("verify", lambda: verify(client.db), retry=True)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(max(0.0, client.deadline - time.monotonic()))
    if thread.is_alive():
        spent = time.perf_counter() - start
        client._write("verify", start, "unfinished", f"still verifying at the end ({spent:.0f} s)")
        os._exit(0)  # the verify's connection goes with the process; the server ends its query
    return found.get("report")


def _auditor(client: _Client, number: int, services: list[str]) -> None:
    from skp_desktop.services.audit import verify
    from skp_desktop.services.dto import HistoryFilter
    from skp_desktop.services.history import history_page

    if number == 0:
        report = _verify_by_the_deadline(client, verify)
        if report is not None and not report.ok:
            client._write("verify problems", time.perf_counter(), "error", str(report.problems[:3]))
    while client.pause(1.0, 4.0):
        pick = client.rng.choice(("service", "indicator", "actor", "period", "text"))
        flt = {
            "service": HistoryFilter(service=client.rng.choice(services)),
            "indicator": HistoryFilter(indicator="GEN-PS-1"),
            "actor": HistoryFilter(actor="coordinator.anna"),
            "period": HistoryFilter(period=client.rng.choice(("FY2025-26-Q2", QUARTER))),
            "text": HistoryFilter(text="queried"),
        }[pick]
        before = None
        for _page in range(3):
            page = client.act(
                f"history by {pick}",
                lambda b=before, f=flt: history_page(client.db, f, before_id=b),
                retry=True,
            )
            if not page:
                break
            before = page[-1].id


def _client_main(
    url: str,
    login: str,
    role: str,
    service: str | None,
    log: str,
    seconds: float,
    files: list[str],
    number: int,
    services: list[str],
    ready: Any,
) -> None:
    # the app's log in the run's folder, removed with it (not a new folder in /tmp per client)
    os.environ.setdefault("SKP_LOG_DIR", str(Path(log).with_name(f"{login}-app-log")))
    faulthandler.dump_traceback_later(seconds + 600, exit=True)  # a stuck client says where
    client = _Client(url, login, Path(log), 0.0, Path(log).parent.name)
    opened = _open_the_app(client, role, service)
    ready.wait()  # everyone starts together, once all thirty have the app open
    client.deadline = time.monotonic() + seconds
    try:
        if role == "manager":
            assert service
            _manager(client, service, opened)
        elif role == "coordinator":
            _coordinator(client, [Path(f) for f in files], number)
        else:
            _auditor(client, number, services)
    finally:
        client.db.dispose()


# --------------------------------------------------------------------------- the run


def _phase(
    server: Any,
    database: str,
    clients: list[tuple[str, str, str | None]],
    files: list[Path],
    seconds: float,
    logs: Path,
    kill_at: float | None,
    services: list[str],
) -> dict[str, Any]:
    context = _clients_context()
    processes = []
    counters: Counter[str] = Counter()
    ready = context.Barrier(len(clients) + 1)
    for index, (login, role, service) in enumerate(clients):
        number = index if role == "manager" else int(login[-2:])
        url = server.url(database, user=login)
        process = context.Process(
            target=_client_main,
            args=(
                url,
                login,
                role,
                service,
                str(logs / f"{login}.jsonl"),
                seconds,
                [str(f) for f in files],
                number,
                services,
                ready,
            ),
            daemon=True,
        )
        process.start()
        processes.append(process)
    ready.wait(timeout=300)  # the clients have started and connected
    start = time.monotonic()
    if kill_at is not None:
        time.sleep(kill_at)
        print(
            f"load: killing the server (pg_ctl stop -m immediate) at {kill_at:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        server.stop()
        time.sleep(3)
        _start(server)  # as its administrator would
        print("load: the server is running again", file=sys.stderr, flush=True)
        counters["kills"] += 1
    for process in processes:
        process.join(timeout=seconds + 660)  # bounded: a client stops by itself at the deadline
        if process.is_alive():
            process.kill()
            counters["clients killed at the end"] += 1
    counters["wall"] = int(time.monotonic() - start)
    return dict(counters)


# What every client imports: a fork server imports it once and forks each client from itself,
# instead of thirty fresh interpreters importing it at once (about 1.3 s of CPU each, 20 s
# of two cores a phase). The clients are still processes of their own, each with its own
# connection, made after the fork.
_CLIENT_MODULES = [
    "bench.load",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "skp_desktop.store.postgres",
    "skp_desktop.services.audit",
    "skp_desktop.services.catalogue",
    "skp_desktop.services.completeness",
    "skp_desktop.services.database",
    "skp_desktop.services.exchange",
    "skp_desktop.services.history",
    "skp_desktop.services.merge",
    "skp_desktop.services.returns",
    "skp_desktop.services.review",
    "skp_desktop.services.setup",
]


def _clients_context() -> Any:
    """A fork server with the clients' modules imported, where there is one (not Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_CLIENT_MODULES)
    return context


def _read_logs(logs: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(logs.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            records += [json.loads(line) for line in handle if line.strip()]
    return records


def _check_acknowledged(url: str, records: list[dict[str, Any]], first_event: int) -> list[str]:
    """Every acknowledged write is in the history: a missing one is named."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        events = connection.execute(
            text("SELECT actor, action, service, period, new FROM audit_events WHERE id > :first"),
            {"first": first_event},
        ).all()
    engine.dispose()
    markers = set()
    counts: Counter[tuple[str, str, str | None, str | None]] = Counter()
    for actor, action, service, period, new in events:
        if action == "value.set" and new:
            with contextlib.suppress(ValueError):
                commentary = json.loads(new).get("commentary")
                if commentary:
                    markers.add(commentary)
        counts[(actor, action, service, period)] += 1
    acked: Counter[tuple[str, str, str | None, str | None]] = Counter()
    missing = []
    for record in records:
        ack = record.get("ack")
        if not ack:
            continue
        if ack["action"] == "value.set":
            if ack["marker"] not in markers:
                missing.append(f"save {ack['marker']}")
        else:
            acked[(record["login"], ack["action"], ack["service"], ack["period"])] += 1
    for key, number in acked.items():
        if counts[key] < number:
            missing.append(f"{key}: {number} acknowledged, {counts[key]} recorded")
    return missing


def _percentiles(times: list[float]) -> tuple[float, float, float]:
    if len(times) < 2:
        value = times[0] if times else 0.0
        return value, value, value
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[94], cuts[98]


def _report(name: str, records: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    by_op: dict[str, list[float]] = defaultdict(list)
    outcomes: Counter[tuple[str, str]] = Counter()
    for record in records:
        outcomes[(record["op"], record["outcome"])] += 1
        if record["outcome"] == "ok":
            by_op[record["op"]].append(record["s"])
    print(f"\n{name}: {len(records)} actions in {seconds:.0f} s")
    print(
        f"  {'operation':<28} {'ok':>6} {'/s':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        "  other outcomes"
    )
    for op in sorted({op for op, _ in outcomes}):
        times = by_op.get(op, [])
        p50, p95, p99 = _percentiles(times)
        others = ", ".join(
            f"{o} {n}" for (o_op, o), n in sorted(outcomes.items()) if o_op == op and o != "ok"
        )
        print(
            f"  {op:<28} {len(times):>6} {len(times) / seconds:>6.1f} {p50 * 1000:>8.1f} "
            f"{p95 * 1000:>8.1f} {p99 * 1000:>8.1f}  {others}"
        )
    errors = [r for r in records if r["outcome"] == "error"]
    for record in errors[:5]:
        print(f"  error in {record['op']} ({record['login']}): {record['detail']}")
    saves = by_op.get("save", [])
    return {
        "save": _percentiles(saves),
        "saves": len(saves),
        "errors": len(errors),
        "actions": sum(len(t) for t in by_op.values()),
        "unavailable": sum(n for (_op, o), n in outcomes.items() if o == "unavailable"),
        "busy": sum(n for (_op, o), n in outcomes.items() if o == "busy-retried"),
    }


def run() -> list[Result]:
    from bench.partnership import copy_to_postgresql, partnership_file
    from skp_desktop.services.audit import verify
    from skp_desktop.services.catalogue import list_services
    from skp_desktop.services.database import open_database

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from postgres_server import find_binaries

    work = Path(tempfile.mkdtemp(prefix="skp-load-"))
    rows: list[Result] = []
    cached = _cached_data(YEARS, find_binaries())
    try:
        source = None if cached.exists() else partnership_file(YEARS)
        start = time.perf_counter()
        with _server(cached if source is None else None) as server:
            owner_url = server.url("load")
            if source is not None:
                with server.connect() as admin:
                    admin.execute('CREATE DATABASE "load"')
                copy_to_postgresql(source, owner_url)
                _keep(server, cached)
                said = f"copied to PostgreSQL and kept in {cached.name}"
            else:
                said = f"started from {cached.name}"
            print(
                f"load: {YEARS} years {said} in {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
            db = open_database(owner_url)
            services = [s.code for s in list_services(db)]
            db.dispose()
            _trust_this_key(owner_url, work, services)
            clients = _logins(server, "load", services)
            files = _return_files(work, services)
            phases = [
                ("load" if n == 1 else f"load round {n}", SECONDS, None)
                for n in range(1, ROUNDS + 1)
            ]
            if KILL_SECONDS > 0:  # 0: the plain load only
                phases.append(("load, server killed", KILL_SECONDS, KILL_SECONDS / 3))
            for phase, seconds, kill_at in phases:
                with server.connect("load") as admin:
                    (first_event,) = admin.execute("SELECT max(id) FROM audit_events").fetchone()
                logs = work / phase.replace(" ", "_").replace(",", "")
                logs.mkdir()
                counters = _phase(server, "load", clients, files, seconds, logs, kill_at, services)
                records = _read_logs(logs)
                summary = _report(phase, records, seconds)
                # each phase's acknowledged writes are looked for as soon as it ends
                missing = _check_acknowledged(owner_url, records, first_event)
                for line in missing[:10]:
                    print(f"  LOST: {line}")
                print(f"  {counters}; acknowledged writes lost: {len(missing)}")
                p50, p95, p99 = summary["save"]
                tag = phase.replace("server killed", "killed")
                rows.append(
                    Result(
                        f"{tag}: save p95 vs 50 ms",
                        p95,
                        SAVE_BUDGET,
                        # The 50 ms goal is the plain load's. Of the killed phase the issue asks
                        # that clients say so and carry on and that nothing acknowledged is lost
                        # (its failures row); its saves meet a server just restarted, its
                        # buffers empty and every client reconnecting: shown, not judged.
                        float("inf") if kill_at else 1.0,
                        ("informative: " if kill_at else "")
                        + f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; {summary['saves']} "
                        f"saves, {summary['actions'] / seconds:.1f} actions/s, "
                        f"{summary['busy']} busy retried"
                        + (f", {summary['unavailable']} while down" if kill_at else ""),
                    )
                )
                # Failures counted (errors, acknowledged writes lost): the goal is none.
                failures = summary["errors"] + len(missing)
                rows.append(
                    Result(
                        f"{tag}: failures (count/1000)",
                        failures / 1000,
                        1.0,
                        0.0,
                        f"errors {summary['errors']}, acknowledged writes lost {len(missing)}",
                    )
                )
            # One `verify` of the whole chain after all the phases (the killed one included),
            # not one after each: the chain only grows, so a link broken in the first phase is
            # still broken at the end; each phase's own writes were looked for above. (A value
            # held unlike its newest event after one phase could only be hidden if a later one
            # saved the same value again.) Each pass over two million events costs a minute.
            db = open_database(owner_url)
            started = time.perf_counter()
            report = verify(db)
            verify_s = time.perf_counter() - started
            db.dispose()
            print(
                f"  verify after every phase: {'clean' if report.ok else report.problems[:3]} "
                f"({report.events_checked:,} events, {verify_s:.0f} s)"
            )
            rows.append(
                Result(
                    "load: verify after all phases (count/1000)",
                    (0 if report.ok else len(report.problems)) / 1000,
                    1.0,
                    0.0,
                    f"verify {'clean' if report.ok else 'FAILED'} at "
                    f"{report.events_checked:,} events in {verify_s:.0f} s",
                )
            )
    finally:
        if os.environ.get("SKP_BENCH_LOAD_KEEP_LOGS"):
            shutil.copytree(work, os.environ["SKP_BENCH_LOAD_KEEP_LOGS"], dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        _stop_fork_server()
    return rows


def _stop_fork_server() -> None:
    """Stop the clients' fork server and wait for it, so that its children's CPU time (the
    clients') counts in this process's, as a spawned client's did (`make bench` prints it)."""
    from multiprocessing import forkserver

    with contextlib.suppress(AttributeError):  # a private API: the count is all that depends on it
        forkserver._forkserver._stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    os.environ.setdefault("SKP_LOG_DIR", tempfile.mkdtemp())
    for row in run():
        print(f"{row.name:<30} {row.ours * 1000:8.1f} ms  goal {row.goal}  {row.note}")
