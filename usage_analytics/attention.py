"""The attention queue (docs/product.md §5.13): every customer needing action now or soon, most urgent first, with
one reason per matter. The `attention` command prints it, the Operators page leads with it, and a customer admin
sees their own account's reasons on the Overview, in their words. Made from the same figures as every page (the
calendar month holding now), so the queue can never disagree with the page a row opens."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from . import closing, revisions, rules, spreadsheet
from .areas import Area
from .config import Settings
from .frames import uncollected
from .handoff import cell, compared_figures
from .outlook import DEFAULT_STALL_DAYS
from .periods import Period
from .revisions import Revision, Revisions
from .store import Store
from .summary import CustomerSummary

# Most urgent first: what stops work now, then what will stop it soon, then what makes figures doubtful, then
# what has only stalled.
KINDS = ("blocked", "low_balance", "trial_ending", "data", "reconciliation", "restated", "onboarding")
ACTIONABLE = ("blocked", "low_balance", "trial_ending", "onboarding")  # a customer admin can act on these
KIND_LABELS = {"blocked": "Blocked", "low_balance": "Low or overdrawn balance", "trial_ending": "Trial ending",
               "data": "Data", "reconciliation": "Reconciliation", "restated": "Restated",
               "onboarding": "Onboarding stalled"}
CSV_COLUMNS = ("customer_id", "customer_name", "kind", "detail", "next_action")


@dataclass(frozen=True)
class Reason:
    kind: str  # one of KINDS
    detail: str  # the operator's words
    next_action: str  # setup | funding | support | review
    yours: str  # the same, to the customer's admin
    due: date | None = None  # when it bites (a balance runs out, a trial ends): sooner first within a kind


@dataclass(frozen=True)
class Entry:
    customer_id: str
    customer_name: str
    reasons: tuple[Reason, ...]

    def key(self) -> tuple:
        first = self.reasons[0]
        return KINDS.index(first.kind), first.due or date.max, self.customer_name.lower(), self.customer_id


def month_of(now: datetime) -> Period:
    """The calendar month holding now: the queue's figures (reconciliation, refused rows) are this month's."""
    return Period.parse(f"{now:%Y-%m}")


def _billing(item: CustomerSummary) -> list[Reason]:
    readiness = item.billing
    if readiness is None:
        return []
    if readiness.creation_allowed is None:
        return [Reason("data", readiness.reason, rules.SUPPORT,
                       "Your billing state cannot be told from the platform's records; the platform's support is "
                       "correcting them.")]
    found = []
    if readiness.creation_allowed is False:
        found.append(Reason("blocked", readiness.reason, readiness.next_action,
                            f"Workspace creation is blocked because {readiness.reason}."))
    for b in item.balances or ():
        if b.low and b.snapshot > 0:  # (an empty snapshot blocks already: "blocked" says so)
            when = ("" if b.runs_out_on is None or b.state in ("overdrawn", "empty")
                    else f" ({b.runs_out_on:%Y-%m-%d})")
            detail = (f"{b.name} runs out in {b.runway_days:.1f} days{when}" if b.state == "low"
                      else f"{b.name} {b.runway_text()} (estimated now)")
            found.append(Reason("low_balance", detail, rules.FUNDING,
                                f"Your {b.name} {b.runway_text()} at the last 7 days' use: add funds before workspace "
                                "creation stops.", b.runs_out_on))
    trial = item.trial
    if trial is not None and trial.ending:
        found.append(Reason("trial_ending", f"trial ends in {trial.days_left:.1f} days ({trial.ends_at:%Y-%m-%d})",
                            rules.SETUP, f"Your trial ends on {trial.ends_at:%Y-%m-%d %H:%M} UTC: set up paid billing "
                                         "so workspace creation does not stop.", trial.ends_at.date()))
    return found


def _reconciliation(item: CustomerSummary) -> list[Reason]:
    behind = tuple((p.provider, p.badge, p.lag_days, p.reconciled_through, p.period_open_status, p.period_open_day)
                   for p in item.providers if rules.needs_attention(p.badge))
    return [_behind_reason(behind, item.now.date())] if behind else []


# Thousands of customers share a few providers, badges and days: each reason is made once per set of providers
# behind and day (the queue is made again with every minute's figures, and its Python is most of what it adds to
# the Operators page). A Reason is frozen, so customers may share one.
@functools.lru_cache(maxsize=4096)
def _behind_reason(behind: tuple[tuple, ...], today: date) -> Reason:
    return Reason("reconciliation", "; ".join(_behind(*provider, today) for provider in behind), rules.SUPPORT,
                  "The platform is reconciling your managed-AI usage with a provider "
                  f"({', '.join(provider for provider, *_ in behind)}); figures stay provisional until it is done.")


def _behind(provider: str, badge: str, lag_days: int, through: date, open_status: str | None, open_day: date | None,
            today: date) -> str:
    if badge == rules.MISMATCH and open_day is not None:
        return f"{provider}: {rules.open_day_text(open_status, open_day, today)}"
    return f"{provider}: {badge}, {lag_days} days behind (reconciled through {through:%Y-%m-%d})"


def _data(item: CustomerSummary) -> list[Reason]:
    rows = item.rejected_rows
    if not rows:
        return []
    said = ", ".join(f"{dataset}: {count:,}" for dataset, count in rows.items())
    return [Reason("data", f"rows refused by the checks ({said})", rules.SUPPORT,
                   f"Some of your usage rows in the platform's exports could not be used ({said}); the platform's "
                   "operators can correct the export.")]


def _onboarding(item: CustomerSummary, stall_days: float) -> list[Reason]:
    account = item.account
    if account.account_status != "onboarding" or account.created_at is None:
        return []
    days = (item.now - account.created_at).total_seconds() / 86_400
    if days <= stall_days:
        return []
    return [Reason("onboarding", f"onboarding for {int(days)} days (since {account.created_at:%Y-%m-%d})",
                   rules.SETUP, f"Your account has been in onboarding since {account.created_at:%Y-%m-%d}: finish "
                                "setting it up to create workspaces.")]


def _restated(months: Iterable[tuple[str, int, str]]) -> list[Reason]:
    return [Reason("restated", f"{label}: figures changed since revision {revision} ({what})", "review",
                   f"Your figures for {Period.parse(label).first_day:%B %Y} changed after that month was closed "
                   f"({what}).")  # (the operator's words keep the label, which the command line takes)
            for label, revision, what in months]


def reasons(item: CustomerSummary, stall_days: float = DEFAULT_STALL_DAYS,
            restated: Iterable[tuple[str, int, str]] = ()) -> tuple[Reason, ...]:
    """One customer's reasons, most urgent first. item: its figures for the month holding now; restated: the
    closed months whose figures moved since (label, revision, what moved)."""
    found = (_billing(item) + _data(item) + _reconciliation(item) + _restated(restated)
             + _onboarding(item, stall_days))
    return tuple(sorted(found, key=_urgency)) if len(found) > 1 else tuple(found)


def _urgency(reason: Reason) -> tuple[int, date]:
    return KINDS.index(reason.kind), reason.due or date.max


def queue(found: dict[str, CustomerSummary], stall_days: float = DEFAULT_STALL_DAYS,
          restated: dict[str, list[tuple[str, int, str]]] | None = None) -> list[Entry]:
    """Every customer with a reason, most urgent first: by its most urgent kind, then the soonest date, then
    name."""
    restated = restated or {}
    entries = []
    with uncollected():
        for cid, item in found.items():
            mine = reasons(item, stall_days, restated.get(cid, ()))
            if mine:
                entries.append(Entry(cid, item.account.customer_name, mine))
        return sorted(entries, key=Entry.key)


def restated_months(revisions: Revisions, figures: Callable[[Period], dict[str, CustomerSummary]],
                    kept: Kept | None = None) -> dict[str, list[tuple[str, int, str]]]:
    """Per customer, each closed month whose figures moved since its latest revision: (month, revision, what
    moved). figures gives every customer's figures of a month as of now; the look ahead is never read, so they
    may be made without it (summaries(ahead=False)). Only what a restatement compares is taken from them
    (handoff.compared_figures), not whole packs. kept: where each month's result is kept by everything it is
    made from, so that a rerun reads it instead of computing the month again."""
    latest: dict[str, Revision] = {}
    for revision in revisions.all():  # (oldest first: the last one of a month is its latest)
        latest[revision.period] = revision
    moved: dict[str, list[tuple[str, int, str]]] = {}
    for label, revision in sorted(latest.items()):
        found = kept.get(revision) if kept is not None else None
        if found is None:
            now = figures(Period.parse(label))
            found = _moved(revisions, revision, now, kept.closed(revision) if kept is not None and kept.everyone
                           else None)  # (one customer's scope reads its one pack)
            if kept is not None and not any(set(item.gaps) - {Area.AHEAD} for item in now.values()):
                kept.put(revision, found)  # (not figures made without a dataset: a page's lenient figures)
        for cid, what in found:
            moved.setdefault(cid, []).append((label, revision.revision, what))
    return moved


def _moved(revisions: Revisions, latest: Revision, found: dict[str, CustomerSummary],
           closed: dict[str, dict] | None = None) -> list[tuple[str, str]]:
    """(customer id, what moved) for each customer of the month's latest revision whose figures moved (closed:
    the revision's packs as closing.closed_figures gives them, when kept)."""
    now = {cid: compared_figures(item) for cid, item in found.items()}
    moved = []
    for change in closing.restatements(revisions, Period.parse(latest.period), now, latest, closed)["customers"]:
        if change.get("removed"):
            continue
        cost = change["managed_ai_cost_usd"]["delta"]
        hours = change["runtime_hours"]["delta"]
        moved.append((change["customer_id"], f"managed AI {'+' if not cost.startswith('-') else ''}{cost} USD" + (
            f", runtime {hours:+.2f} h" if hours else "")))
    return moved


@dataclass(frozen=True)
class Kept:
    """Where restated_months keeps a closed month's result (STATE_DIR/restated/), by everything it is made from:
    the month's latest revision; inputs (the store file, named by the exports' fingerprint, the UTC day and the
    building code; the scope; EXPORT_MAX_AGE_HOURS; the app's version); and the month's end or now, whichever
    is earlier (an ended month's figures no longer move with the clock). A file that cannot be read or written
    is computed again, never an error."""
    folder: Path
    inputs: str
    now: datetime
    everyone: bool = True  # the scope is every customer (else one, whose figures alone are compared)

    KEEP_DAYS = 7  # files older than this are removed when a new one is written

    def _file(self, revision: Revision) -> Path:
        reach = min(self.now, Period.parse(revision.period).end)
        key = json.dumps([self.inputs, revision.period, revision.revision, revision.manifest_sha256,
                          str(revision.folder), reach.isoformat()])
        return self.folder / f"{revision.period}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def get(self, revision: Revision) -> list[tuple[str, str]] | None:
        try:
            found = json.loads(self._file(revision).read_text())
            return [(cid, what) for cid, what in found if isinstance(cid, str) and isinstance(what, str)]
        except (OSError, ValueError, TypeError):
            return None

    def put(self, revision: Revision, found: list[tuple[str, str]]) -> None:
        self._write(self._file(revision), found)

    def _closed_file(self, revision: Revision) -> Path:
        """A revision never changes once written, and its manifest's digest names every file of it."""
        key = json.dumps([revision.period, revision.revision, revision.manifest_sha256, str(revision.folder)])
        return self.folder / f"{revision.period}-closed-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def closed(self, revision: Revision) -> dict[str, dict]:
        """The revision's packs as restatements read them (closing.closed_figures), kept by the revision: its
        thousands of pack files are read once, not on every first run after new exports."""
        path = self._closed_file(revision)
        try:
            found = json.loads(path.read_text())
            if isinstance(found, dict):
                return found
        except (OSError, ValueError):
            pass
        found = closing.closed_figures(revision)
        self._write(path, found)
        return found

    def remember(self, revision: Revision, packs: dict[str, dict]) -> None:
        """What closed() would read, kept from the packs a close of every customer has just written (the
        revision's packs are exactly these, so the first comparison after a close reads no pack file)."""
        if set(packs) == set(revision.manifest()["customers"]):
            self._write(self._closed_file(revision), {cid: closing.as_compared(p) for cid, p in packs.items()})

    def _write(self, path: Path, found) -> None:
        writing = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            writing.write_text(json.dumps(found))
            os.replace(writing, path)  # (whole or not at all: a reader never sees half a file)
            old = time.time() - self.KEEP_DAYS * 86_400
            for other in path.parent.glob("*.json"):
                if other.stat().st_mtime < old:
                    other.unlink(missing_ok=True)
        except OSError:  # (a read-only STATE_DIR: the result is simply made again next time)
            with contextlib.suppress(OSError):
                writing.unlink(missing_ok=True)


def kept(settings: Settings, store: Store, now: datetime, customer_id: str | None = None) -> Kept | None:
    """Where restated_months keeps its results for figures of this store file, scope and settings (None for a
    store in memory, which has no file to name the exports' state)."""
    if store.database is None:
        return None
    inputs = json.dumps([Path(store.database).name, customer_id, settings.export_max_age_hours,
                         closing.app_version()])
    return Kept(_kept_in(settings), inputs, now, customer_id is None)


def _kept_in(settings: Settings) -> Path:
    return settings.state_dir / "restated"


def restated(settings: Settings, store: Store, now: datetime) -> dict[str, list[tuple[str, int, str]]]:
    """restated_months of every customer against this store, as the `attention` command makes them (without the
    look ahead, which a restatement never compares), read where kept and kept where made: the command, and
    `ingest` and `close` after they built or used the store, so that the command's next run reads them."""
    return restated_months(revisions.for_settings(settings),
                           lambda period: closing.figures_of(store, period, now, ahead=False),
                           kept(settings, store, now))


def remember_closed(settings: Settings, revision: Revision, packs: dict[str, dict]) -> None:
    """After a close: its packs kept as the next comparison reads them, when they are the whole revision (a
    close of every customer; Kept.remember checks)."""
    Kept(_kept_in(settings), "", datetime.now(timezone.utc)).remember(revision, packs)


def to_json(entries: list[Entry]) -> str:
    """The queue as `json.dumps(..., indent=2)` writes it, byte for byte, in a sixth of its time: Python's json
    module indents in pure Python (117 ms for 4,500 customers, a twentieth of the command's budget), while the
    strings here go through its C escaper, as json.dumps escapes them (non-ASCII as \\u escapes)."""
    if not entries:
        return "[]\n"
    text = _JSON_TEXT
    return "[\n" + ",\n".join(
        _JSON_ENTRY % (text(e.customer_id), text(e.customer_name),
                       "[\n" + ",\n".join(_JSON_REASON % (text(r.kind), text(r.detail), text(r.next_action))
                                           for r in e.reasons) + "\n    ]" if e.reasons else "[]")
        for e in entries) + "\n]\n"


_JSON_TEXT = json.encoder.encode_basestring_ascii  # (json.dumps' own escaper, in C)
_JSON_ENTRY = '  {\n    "customer_id": %s,\n    "customer_name": %s,\n    "reasons": %s\n  }'
_JSON_REASON = '      {\n        "kind": %s,\n        "detail": %s,\n        "next_action": %s\n      }'


def to_csv(entries: list[Entry]) -> str:
    """One row per reason, in the queue's order; every text cell neutralised for spreadsheets."""
    return spreadsheet.csv_text([CSV_COLUMNS, *([cell(v) for v in (e.customer_id, e.customer_name, r.kind, r.detail,
                                                                    r.next_action)]
                                                for e in entries for r in e.reasons)])


def to_text(entries: list[Entry]) -> str:
    if not entries:
        return "no customer needs attention\n"
    lines = []
    for e in entries:
        lines.append(f"{e.customer_id}  {e.customer_name}")
        lines += [f"  {r.kind}: {r.detail} → {r.next_action}" for r in e.reasons]
    return "\n".join(lines) + "\n"


def counts(entries: list[Entry]) -> dict[str, int]:
    """Customers per kind of reason (a customer with two kinds counts in both), in one pass over the queue."""
    found = Counter(kind for e in entries for kind in {r.kind for r in e.reasons})
    return {kind: found[kind] for kind in KINDS}

