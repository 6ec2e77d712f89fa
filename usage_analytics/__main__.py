"""The command line: `handoff`, `close`, `verify` and `restatements` for finance, `check` and `ingest` for
pipelines, `sample-data` for demos, `hash-password`."""
from __future__ import annotations

import argparse
import gc
import getpass
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import attention, closing, config, coverage, focus, handoff, objects, revisions, sample, summary, validation
from .build import build, fingerprint
from .revisions import Revision
from .store import DataError, first_line
from .periods import Period, PeriodError
from .sql import QueryError
from .summary import UnknownCustomer, customer_summary


class UsageError(Exception):
    """A command line that cannot be run as given."""


class Incomplete(Exception):
    """Figures a command would write are incomplete: a file they are made from could not be read (exit 1)."""


def _complete(store, datasets: tuple[str, ...], args: argparse.Namespace, what: str) -> None:
    """Refuse to write figures made from a dataset with files that could not be read, unless the command
    line says --allow-incomplete (then the output itself says incomplete)."""
    unread = coverage.unread_files(store.reports, datasets)
    if unread and not args.allow_incomplete:
        raise Incomplete(f"{what} would be incomplete: {coverage.files_text(unread)} could not be read (`check` "
                         "names them); fix the exports, or give --allow-incomplete to write it marked incomplete")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see --help)")


def _count(text: str) -> int:
    """A number of customers for sample-data: 1 to 5,000, in ASCII digits."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 5000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 5000")
    return int(text)


_ALLOW = ("write figures even when a file they are made from could not be read (they say incomplete); "
          "without it the command exits 1")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m usage_analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    pack = commands.add_parser("handoff", help="print the billing handoff pack of one customer (or all) and period")
    who = pack.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="customer_id, e.g. cus_acme_robotics")
    who.add_argument("--all", action="store_true", help="every customer in one file (CSV: one header; JSON: a list)")
    pack.add_argument("--period", required=True, help="YYYY-MM, or YYYY-MM-DD..YYYY-MM-DD (end inclusive), UTC")
    pack.add_argument("--format", choices=("json", "csv"), default="json")
    pack.add_argument("--output", type=Path, help="write to this file instead of standard output")
    pack.add_argument("--as-closed", action="store_true", help="the pack of the month's latest close, as closed")
    pack.add_argument("--allow-incomplete", action="store_true", help=_ALLOW)
    close = commands.add_parser("close", help="close an ended month: record every customer's pack as a revision; "
                                              "the last line printed is the manifest's path")
    close.add_argument("--period", required=True, help="YYYY-MM, a month that has ended")
    close.add_argument("--customer", help="close this customer only (the others are carried over)")
    close.add_argument("--allow-incomplete", action="store_true", help=_ALLOW)
    charges = commands.add_parser("focus", help="write a month's managed-AI charges of linked providers as a FOCUS "
                                                "1.2 CSV (workspace runtime has no price, so it is not in it)")
    charges.add_argument("--period", required=True, help="YYYY-MM")
    charges.add_argument("--customer", help="one customer only")
    charges.add_argument("--output", type=Path, required=True, help="the CSV file to write")
    charges.add_argument("--allow-incomplete", action="store_true", help=_ALLOW)
    queue = commands.add_parser("attention", help="every customer needing action now or soon, most urgent first "
                                                  "(blocked, low balance, trial ending, data, reconciliation, "
                                                  "restated, onboarding stalled); an empty list when none")
    queue.add_argument("--format", choices=("json", "csv", "text"), default="json")
    queue.add_argument("--allow-incomplete", action="store_true", help=_ALLOW + " (then stderr says INCOMPLETE)")
    verify = commands.add_parser("verify", help="check every file a revision's manifest names; exit 1 when one "
                                                "is missing, changed or not listed")
    verify.add_argument("manifest", type=Path)
    moved = commands.add_parser("restatements", help="today's figures against the month's latest close; exit 3 "
                                                     "when a customer's figures differ")
    moved.add_argument("--period", required=True, help="YYYY-MM")
    moved.add_argument("--format", choices=("json", "text"), default="text")
    sample = commands.add_parser("sample-data", help="write the deterministic sample exports")
    sample.add_argument("--out", type=Path, default=config.Settings.data_dir, help="folder to write (default: data/)")
    sample.add_argument("--now", help="ISO timestamp the sample ends at (default: the clock)")
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--customers", type=_count, default=40, help="how many customers (1 to 5,000)")
    commands.add_parser("check", help="check every dataset of USAGE_DATA_DIR; exit 1 when one cannot be used, a "
                                      "file cannot be read, or a dataset has rows but none usable")
    commands.add_parser("hash-password", help="read a password (prompt, or standard input) and print its bcrypt "
                                              "hash for auth.yaml")
    commands.add_parser("ingest", help="check the exports of USAGE_DATA_DIR into the store file under STATE_DIR "
                                       "(the app does it on the first load after new exports)")
    return parser


def _ingest(args: argparse.Namespace) -> int:
    settings = config.load()
    started = time.perf_counter()
    store = build(settings.data_dir, settings.now(), settings.store_dir, say)
    try:
        kept = sum(report.rows_kept for report in store.reports.values())
        where = store.database or "memory (the store folder cannot be used; see the warning above)"
        print(f"{store.made or 'up to date'}: {where}, {kept:,} rows kept, "
              f"{time.perf_counter() - started:.1f} s")
        _keep_restated(settings, store)
    finally:
        store.close()
    return 1 if store.problems else 0


def _keep_restated(settings: config.Settings, store) -> None:
    """After a build or a close: the closed months compared with the store and kept (attention.restated), so that
    the attention command's first run and the Operators page's read them. Never a failure of the command it
    follows: what cannot be compared now is compared by the attention command, which says why."""
    started = time.perf_counter()
    try:
        attention.restated(settings, store, settings.now())
        months = len({r.period for r in revisions.for_settings(settings).all()})
    except (DataError, OSError) as error:  # (the state database unreachable is an OSError too)
        say(f"the closed months were not compared with the exports now ({first_line(error)}); "
            "the attention command compares them when it runs")
        return
    if months:
        say(f"{months} closed month{'s' if months != 1 else ''} compared with the exports and kept for the "
            f"attention queue, {time.perf_counter() - started:.1f} s")


def say(line: str) -> None:
    """A step of long work, on stderr (stdout holds the command's result)."""
    print(line, file=sys.stderr, flush=True)


def _progress(line: str) -> None:
    """Building the store on a terminal: say what is being checked (a pipeline's stderr stays one line)."""
    if sys.stderr.isatty():
        say(line)


def _latest(settings: config.Settings, period: Period) -> Revision | None:
    """The latest close of a calendar month (None for other periods, and for a month never closed)."""
    if not period.is_month:
        return None
    return revisions.for_settings(settings).latest(period.label)


def _write(args: argparse.Namespace, text: str | bytes) -> None:
    """A pack to --output or standard output (a recorded file's bytes are UTF-8 text, written as they are)."""
    text = text if isinstance(text, str) else text.decode()
    if args.output:
        args.output.write_bytes(text.encode())
    else:
        sys.stdout.write(text)


def _handoff(args: argparse.Namespace) -> int:
    settings = config.load()
    period = Period.parse(args.period)
    if args.as_closed:
        return _as_closed(args, settings, period)
    store = build(settings.data_dir, settings.now(), settings.store_dir, _progress)
    try:
        _complete(store, coverage.PACK, args, "the pack")
        if args.all:
            found = closing.packs(store, period, settings.now(), low_days=settings.low_balance_days)
        else:
            found = {args.customer: handoff.pack(customer_summary(store, args.customer, period, settings.now(),
                                                                  settings.low_balance_days))}
    finally:
        store.close()
    packs = list(closing.with_close(_latest(settings, period), found).values())
    if args.all:
        _write(args, handoff.to_json_all(packs) if args.format == "json" else handoff.to_csv_all(packs))
    else:
        _write(args, handoff.to_json(packs[0]) if args.format == "json" else handoff.to_csv(packs[0]))
    return 0


def _as_closed(args: argparse.Namespace, settings: config.Settings, period: Period) -> int:
    """The pack of the month's latest revision, byte for byte as it was recorded."""
    if args.all:
        raise UsageError("--as-closed is for one customer: give --customer")
    latest = _latest(settings, period)
    if latest is None:
        raise closing.CloseError(f"{period.label} was never closed: there is no pack as closed")
    try:
        _write(args, latest.file(closing.pack_file(args.customer, args.format)))
    except FileNotFoundError:
        raise closing.CloseError(f"customer {args.customer!r} is not in revision {latest.revision} of "
                                 f"{period.label}") from None
    return 0


def _close(args: argparse.Namespace) -> int:
    settings = config.load()
    now = settings.now()
    period = closing.month(args.period, now)
    store = build(settings.data_dir, now, settings.store_dir, _progress)
    try:
        _complete(store, coverage.PACK, args, f"the close of {period.label}")
        closing.covered(period, store.reports)
        figures = closing.figures_of(store, period, now, args.customer, settings.low_balance_days)
        found = {cid: handoff.pack(item) for cid, item in figures.items()}
        charges = focus.charges(figures)  # (per-day rows are fetched from the open store)
        cutoff = closing.cutoff(store.reports)
        scope = closing.Scope(period, found, args.customer is None, cutoff, fingerprint(settings.data_dir), "cli",
                              charges, settings.platform_name)
        latest, new, restated = closing.close(revisions.for_settings(settings), scope, now)
        if new:
            attention.remember_closed(settings, latest, found)
            _keep_restated(settings, store)
    finally:
        store.close()
    if new:
        print(f"closed {period.label}: revision {latest.revision}, {len(found)} customer"
              f"{'s' if len(found) != 1 else ''}" + (f", {len(restated)} restated" if restated else ""))
    else:
        print(f"{period.label}: unchanged since revision {latest.revision}")
    print(latest.manifest_path)
    return 0


def _focus(args: argparse.Namespace) -> int:
    """A month's managed-AI charges as FOCUS 1.2: the latest revision's file when the month was closed (its
    Usage rows and any Correction rows), else the charges as of now."""
    settings = config.load()
    period = Period.parse(args.period)
    if not period.is_month:
        raise closing.CloseError(f"{period.label} is not a calendar month: a FOCUS file is for one month, YYYY-MM")
    latest = _latest(settings, period)
    store = None
    unread = ""
    try:
        def charges() -> list[focus.Charge]:
            nonlocal store, unread
            store = build(settings.data_dir, settings.now(), settings.store_dir, _progress)
            _complete(store, coverage.FOCUS, args, "the FOCUS file")
            unread = coverage.files_text(coverage.unread_files(store.reports, coverage.FOCUS))
            return focus.charges(closing.figures_of(store, period, settings.now(), args.customer))

        text = closing.focus_file(latest, charges, period, settings.platform_name, args.customer)
    finally:
        if store is not None:
            store.close()
    args.output.write_text(text)
    print(f"wrote {args.output}: {text.count(chr(10)) - 1:,} FOCUS rows of {period.label}"
          + (f" (revision {latest.revision})" if latest else " (as of now; the month was never closed)")
          + (f"; INCOMPLETE: {unread} could not be read" if unread else ""))
    return 0


def _attention(args: argparse.Namespace) -> int:
    settings = config.load()
    now = settings.now()
    store = build(settings.data_dir, now, settings.store_dir, _progress)
    try:
        _complete(store, coverage.PACK, args, "the attention queue")
        unread = coverage.files_text(coverage.unread_files(store.reports, coverage.PACK))

        restated = attention.restated(settings, store, now)
        # (no reason reads the month's runtime: its figures are made without it, summaries(runtime=False))
        entries = attention.queue(summary.summaries(store, attention.month_of(now), now,
                                                    low_days=settings.low_balance_days, runtime=False),
                                  settings.onboarding_stall_days, restated)
    finally:
        store.close()
    sys.stdout.write({"json": attention.to_json, "csv": attention.to_csv, "text": attention.to_text}[args.format](
        entries))
    if unread:
        say(f"INCOMPLETE: {unread} could not be read; the queue may miss customers or reasons")
    return 0


def _verify(args: argparse.Namespace) -> int:
    settings = config.load()
    path = objects.location(args.manifest).resolve()  # (a file, or s3://… when CLOSE_DIR is a bucket)
    known = [r for r in revisions.for_settings(settings).all() if r.manifest_path.resolve() == path]
    problems = revisions.verify(path, known[0].manifest_sha256 if known else None)
    for line in problems:
        print(line)
    if not problems:
        print(f"ok: every file of {path} matches")
    return 1 if problems else 0


def _restatements(args: argparse.Namespace) -> int:
    settings = config.load()
    period = Period.parse(args.period)
    if _latest(settings, period) is None:
        raise closing.CloseError(f"{period.label} was never closed: there is nothing to compare with")
    store = build(settings.data_dir, settings.now(), settings.store_dir, _progress)
    try:
        found = closing.now_compared(store, period, settings.now())
    finally:
        store.close()
    report = closing.restatements(revisions.for_settings(settings), period, found)
    if args.format == "json":
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        for line in closing.restatement_lines(report):
            print(line)
    return 3 if report["customers"] else 0


def _sample_data(args: argparse.Namespace) -> int:
    now = config.parse_timestamp(args.now, "--now") if args.now else datetime.now(timezone.utc)
    try:
        manifest = sample.generate(args.out, now, seed=args.seed, customers=args.customers)
    except FileExistsError as error:
        raise UsageError(str(error)) from None
    rows = ", ".join(f"{name} {count}" for name, count in manifest["rows"].items())
    print(f"wrote {args.out} (now {manifest['now']}): {rows}")
    return 0


def _check(args: argparse.Namespace) -> int:
    settings = config.load()
    store = build(settings.data_dir, settings.now(), settings.store_dir, _progress)
    try:
        print(f"checked {settings.data_dir} (now: {settings.now():%Y-%m-%d %H:%M} UTC, from {settings.now_source})")
        for line in validation.report_lines(store.reports, settings.now(), settings.export_max_age_hours):
            print(line)
        unusable = [name for name, report in store.reports.items() if report.unusable]
        unread = [f"{name} ({len(r.bad_files)} file{'s' if len(r.bad_files) != 1 else ''})"
                  for name, r in store.reports.items() if r.bad_files and not r.unusable]
        refused = [name for name, r in store.reports.items() if r.rows_read and not r.rows_kept and not r.unusable]
    finally:
        store.close()
    problems = ([f"unusable: {', '.join(unusable)}"] if unusable else []) \
        + ([f"files not read: {', '.join(unread)}"] if unread else []) \
        + ([f"no usable row: {', '.join(refused)}"] if refused else [])
    if problems:
        print(f"error: {'; '.join(problems)}", file=sys.stderr)
        return 1
    return 0


def _hash_password(args: argparse.Namespace) -> int:
    import bcrypt  # comes with streamlit-authenticator

    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise UsageError("a password needs at least 8 characters")
    if len(password.encode()) > 72:
        raise UsageError("a password may have at most 72 bytes (bcrypt reads no further)")
    print(bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode())
    return 0


def main(argv: list[str] | None = None) -> int:
    def command() -> int:
        args = _parser().parse_args(argv)
        return {"handoff": _handoff, "sample-data": _sample_data, "hash-password": _hash_password, "check": _check,
                "ingest": _ingest, "close": _close, "verify": _verify, "restatements": _restatements,
                "focus": _focus, "attention": _attention}[args.command](args)

    return run(command)


def run(command: Callable[[], int]) -> int:
    """A command's exit code: 0 done, 1 when the data or a file fails, 2 for bad usage or settings, 70 for a
    bug; each error one line on stderr, never a traceback (the benchmark's command line uses it too)."""
    try:
        return command()
    except (UsageError, PeriodError, config.ConfigError, closing.CloseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (UnknownCustomer, DataError, QueryError, OSError, Incomplete) as error:
        print(f"error: {first_line(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: still one line for the user, never a traceback
        print(f"error: unexpected {type(error).__name__}: {first_line(error)}", file=sys.stderr)
        return 70


if __name__ == "__main__":
    code = main()
    # The process ends here. Python's collector would walk every object a command made once more while the
    # interpreter shuts down (0.2 s of the `attention` command's 1.8 at 5,000 customers); frozen, they are left
    # to the end of the process instead. Exit handlers still run and nothing is left unwritten: the command has
    # closed what it opened, and sys.exit flushes stdout and stderr.
    gc.freeze()
    sys.exit(code)
