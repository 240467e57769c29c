"""`skp-returns keys ...`: this installation's signing key, and the keys trusted here."""

from __future__ import annotations

import argparse
import sys

from skp_desktop.cli.common import print_json, print_table, trust
from skp_desktop.cli.registry import EXIT_OK, arg, command, declare_group
from skp_desktop.services.database import Database

declare_group(
    "keys", "this installation's signing key, and the keys trusted here", dest="keys_command"
)


@command(
    "show",
    "this installation's fingerprint, public key and key file",
    arg("--json", action="store_true"),
    group="keys",
)
def cmd_keys_show(args: argparse.Namespace, db: Database) -> int:
    info = trust.show_key(db)
    if args.json:
        print_json([info.as_dict()])
    else:
        print(f"fingerprint  {info.fingerprint}")
        print(f"public_key   {info.public_key}")
        print(f"key_file     {info.key_file}")
        print(f"this database trusts it: {info.enrolled_here or 'no'}")
    if info.made_now:
        print(f"skp-returns: note: a new signing key was made in {info.key_file}", file=sys.stderr)
    return EXIT_OK


@command(
    "export",
    "write this installation's enrolment file",
    arg("--out", required=True, metavar="FILE"),
    group="keys",
    needs_db=False,
)
def cmd_keys_export(args: argparse.Namespace, db: Database | None) -> int:
    path, info = trust.export_enrolment(args.out, name=args.actor)
    print(f"Wrote {path}: the public key of {args.actor}, fingerprint {info.fingerprint}")
    print(
        "Send the file to the coordinator and read them the fingerprint over the phone.",
        file=sys.stderr,
    )
    return EXIT_OK


@command(
    "trust",
    "enrol the key of an enrolment file for services, once its fingerprint is confirmed",
    arg("file", metavar="FILE"),
    arg("--service", dest="services", action="append", metavar="S"),
    arg("--fingerprint", metavar="F", help="as its owner read it out by phone"),
    group="keys",
)
def cmd_keys_trust(args: argparse.Namespace, db: Database) -> int:
    key, done = trust.trust_key(
        db,
        args.file,
        services=args.services or [],
        fingerprint_given=args.fingerprint,
        actor=args.actor,
    )
    print(f"{key.fingerprint}\t{key.name}\t{done}")
    return EXIT_OK


@command(
    "list",
    "the keys this database trusts, and those revoked",
    arg("--json", action="store_true"),
    group="keys",
)
def cmd_keys_list(args: argparse.Namespace, db: Database) -> int:
    keys = trust.list_keys(db)
    if args.json:
        print_json([key.as_dict() for key in keys])
        return EXIT_OK
    print_table(
        ["FINGERPRINT", "NAME", "TRUSTED FOR", "TRUSTED AT", "REVOKED"],
        [
            [
                key.fingerprint,
                key.name,
                key.trusted_for,
                key.as_dict()["trusted_at"],
                key.as_dict()["revoked_at"] or "",
            ]
            for key in keys
        ],
    )
    return EXIT_OK


@command(
    "revoke",
    "stop believing a key from now on",
    arg("fingerprint", metavar="F"),
    arg("--reason", required=True, metavar="TEXT"),
    group="keys",
)
def cmd_keys_revoke(args: argparse.Namespace, db: Database) -> int:
    key = trust.revoke_key(db, args.fingerprint, reason=args.reason, actor=args.actor)
    print(f"Revoked {key.fingerprint} ({key.name}): files it signs are refused from now on.")
    return EXIT_OK


@command("rotate", "make a new key, vouched for by the old one", group="keys")
def cmd_keys_rotate(args: argparse.Namespace, db: Database) -> int:
    done = trust.rotate_installation_key(db, actor=args.actor)
    print(f"New key {done.new_fingerprint} replaces {done.old_fingerprint} ({done.key_file})")
    print(
        "Run `skp-returns keys export --out FILE` and send the file to the coordinator: it is "
        "signed by the old key, so `keys trust FILE` takes it without a phone call, and files "
        "signed by the new key are accepted where the old one was."
        + (
            " This database now trusts the new key in the old one's place."
            if done.replaced_here
            else ""
        ),
        file=sys.stderr,
    )
    return EXIT_OK
