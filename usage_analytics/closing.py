"""Month close: the packs of an ended month frozen as a revision, their figures, and what changed since.

A close computes every customer's handoff pack through the same code path as `handoff`. What a later close
or `restatements` compares is a pack's figures: runtime hours and the managed-AI totals, per provider and
overall, with their final/provisional status. Billing readiness and reconciliation lag are evaluated as of
now and move with the clock, not with the data, so they are recorded but never count as a restatement."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Callable

from . import focus, handoff, outlook, rules, summary, validation
from .build import UNREACHABLE
from .contract import USAGE_COUNTS
from .periods import Period
from .revisions import Revision, Revisions
from .store import Store


class CloseError(ValueError):
    """A close or a comparison that cannot be made as asked (one line; the command line exits 2)."""


def month(text: str, now: datetime) -> Period:
    """The calendar month a close is for: YYYY-MM, and ended."""
    period = Period.parse(text)
    if not period.is_month:
        raise CloseError(f"{period.label} is not a calendar month: a close is for one month, YYYY-MM")
    if not period.has_ended(now):
        raise CloseError(f"{period.label} has not ended; it can be closed from {period.end:%Y-%m-%d %H:%M} UTC")
    return period


def covered(period: Period, reports: dict) -> None:
    """A month before any export has nothing to close: its packs would be zeros that claim to be final."""
    since = validation.usage_since(reports)
    if since is None:
        raise CloseError(f"{period.label} cannot be closed: the exports hold no usage yet")
    if period.end <= since:
        raise CloseError(f"{period.label} is before any export: usage in the exports starts {since:%Y-%m-%d %H:%M} UTC")


def cutoff(reports: dict) -> dict[str, str | None]:
    """The data cut-off of a close: each dataset's newest event used."""
    return {name: r.newest.isoformat().replace("+00:00", "Z") if r.newest else None for name, r in reports.items()}


def figures_of(store: Store, period: Period, now: datetime, customer_id: str | None = None,
               low_days: float = outlook.DEFAULT_LOW_DAYS, ahead: bool = True) -> dict[str, summary.CustomerSummary]:
    """Every customer's figures (or one's) for a close, by customer id (ahead=False: without the look ahead,
    which a restatement never compares; see summary.summaries)."""
    found = summary.summaries(store, period, now, customer_id, low_days=low_days, ahead=ahead)
    if customer_id is not None and customer_id not in found:
        raise CloseError(f"customer {customer_id!r} is not in the customers dataset")
    return dict(sorted(found.items()))


def packs(store: Store, period: Period, now: datetime, customer_id: str | None = None,
          low_days: float = outlook.DEFAULT_LOW_DAYS) -> dict[str, dict]:
    """Every customer's handoff pack (or one's), as `handoff` makes it, by customer id."""
    return {cid: handoff.pack(item) for cid, item in figures_of(store, period, now, customer_id, low_days).items()}


def now_compared(store: Store, period: Period, now: datetime, customer_id: str | None = None) -> dict[str, dict]:
    """Every customer's figures (or one's) as of now, as far as restatements() reads them
    (handoff.compared_figures: what compared() takes of a pack, and the customer), by customer id."""
    return {cid: handoff.compared_figures(item)
            for cid, item in figures_of(store, period, now, customer_id, ahead=False).items()}


def compared(pack: dict) -> dict:
    """What a restatement compares: runtime hours, and managed-AI totals and status per provider and overall."""
    found = as_compared(pack)
    return {"runtime_hours": found["workspace_runtime_hours"], "managed_ai": found["managed_ai"]}


def as_compared(pack: dict) -> dict:
    """Only what restatements() reads of a pack as closed (handoff.compared_figures' shape): compared() gives the
    same for it as for the whole pack, and difference() reads nothing else of the closed side."""
    ai = pack["managed_ai"]
    keep = ("cost_usd", *USAGE_COUNTS, "status")
    return {"customer": {k: pack["customer"][k] for k in ("customer_id", "customer_name")},
            "workspace_runtime_hours": pack["workspace_runtime_hours"],
            "managed_ai": {**{k: ai[k] for k in keep}, "not_configured": ai["not_configured"],
                           "providers": [{"provider": p["provider"], **{k: p[k] for k in keep}}
                                         for p in ai["providers"]]}}


def closed_figures(latest: Revision) -> dict[str, dict]:
    """Every customer's pack in a revision as restatements() reads it (as_compared), by customer id: thousands of
    pack files read once, so that a caller may keep the result by the revision (its manifest's digest)."""
    return {cid: as_compared(json.loads(latest.file(pack_file(cid, "json"))))
            for cid in latest.manifest()["customers"]}


def totals(pack: dict) -> dict:
    """A customer's line in a manifest."""
    return {"customer_name": pack["customer"]["customer_name"], "runtime_hours": pack["workspace_runtime_hours"],
            "managed_ai_cost_usd": pack["managed_ai"]["cost_usd"], "status": pack["managed_ai"]["status"],
            "billing_mode": pack["billing"]["billing_mode"], "creation_allowed": pack["billing"]["creation_allowed"]}


def _money(closed: str, now: str) -> dict:
    return {"closed": closed, "now": now, "delta": f"{rules.usd(Decimal(now) - Decimal(closed)):f}"}


def difference(closed: dict, now: dict) -> dict | None:
    """How a customer's figures moved since a close (restatements' shape), or None when they did not."""
    if compared(closed) == compared(now):
        return None
    before, after = closed["managed_ai"], now["managed_ai"]
    old = {p["provider"]: p["cost_usd"] for p in before["providers"]}
    new = {p["provider"]: p["cost_usd"] for p in after["providers"]}
    providers = [{"provider": name, **_money(old.get(name, "0.000000"), new.get(name, "0.000000"))}
                 for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]
    hours = (closed["workspace_runtime_hours"], now["workspace_runtime_hours"])
    return {"customer_id": now["customer"]["customer_id"], "customer_name": now["customer"]["customer_name"],
            "runtime_hours": {"closed": hours[0], "now": hours[1], "delta": round(hours[1] - hours[0], 2)},
            "managed_ai_cost_usd": _money(before["cost_usd"], after["cost_usd"]),
            "providers": providers, "status": {"closed": before["status"], "now": after["status"]}}


def close_block(latest: Revision | None, pack: dict) -> dict | None:
    """A pack's `close`: the month's latest revision and whether this customer's figures moved since (with
    how much when they did); None when the month, or this customer in it, was never closed."""
    if latest is None:
        return None
    try:
        closed = json.loads(latest.file(pack_file(pack["customer"]["customer_id"], "json")))
    except FileNotFoundError:
        return None
    moved = difference(closed, pack)
    block = {"revision": latest.revision, "closed_at": latest.closed_at, "manifest_sha256": latest.manifest_sha256,
             "restated": moved is not None}
    if moved:
        block.update({key: moved[key] for key in ("runtime_hours", "managed_ai_cost_usd", "providers")})
    return block


def with_close(latest: Revision | None, found: dict[str, dict]) -> dict[str, dict]:
    """The packs with their close blocks against the latest revision, as `handoff` prints them."""
    return {cid: {**pack, "close": close_block(latest, pack)} for cid, pack in found.items()}


_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def pack_file(customer_id: str, file_format: str) -> str:
    """A customer's pack in a revision: packs/<customer_id>.<format>, or, for an id that is not a safe file name
    (a slash, '..', markup, a very long id), packs/_<hash of the id>.<format>: an id from the exports never
    reaches a path as it is."""
    name = customer_id if _SAFE_NAME.fullmatch(customer_id) else \
        "_" + hashlib.sha256(customer_id.encode()).hexdigest()[:24]
    return f"packs/{name}.{file_format}"


@cache
def app_version() -> str:
    """The app's version: a hash of the package's source and of every SQL file (derived, never bumped by hand)."""
    root = Path(__file__).resolve().parent
    sources = [p.read_bytes() for p in sorted(root.glob("*.py"))]
    sources += [p.read_bytes() for p in sorted((root.parent / "queries").rglob("*.sql"))]
    return hashlib.sha256(b"\0".join(sources)).hexdigest()[:12]


@dataclass(frozen=True)
class Scope:
    """What a close covers, and what it is recorded with."""
    period: Period
    packs: dict[str, dict]  # customer id -> pack (close: None): every customer, or the one asked for
    everyone: bool  # a close of every customer (else of the one in packs, the others carried over)
    cutoff: dict[str, str | None]  # dataset -> its newest event used (ISO), the data cut-off
    fingerprint: str  # the exports' fingerprint
    closed_by: str  # the user in the app, "cli" from the command line
    charges: list[focus.Charge]  # the managed-AI charges per day of the customers in packs (the FOCUS file)
    platform: str  # the platform's name in the FOCUS file


FOCUS_FILE = "focus.csv"


def _focus(scope: Scope, latest: Revision | None, number: int) -> bytes:
    """The revision's FOCUS file: every charge as a Usage row; after a revision that has one, that file as it
    was and the Correction rows that bring it to these charges."""
    if latest is None or not (latest.folder / FOCUS_FILE).is_file():
        return focus.to_csv(focus.usage_rows(scope.charges, scope.period, scope.platform, number)).encode()
    earlier = latest.file(FOCUS_FILE).decode()
    fixes = focus.corrections(focus.read(earlier), scope.charges, scope.period, scope.platform, number,
                              None if scope.everyone else set(scope.packs))
    return (earlier + focus.to_csv(fixes, header=False)).encode()


def close(revisions: Revisions, scope: Scope, closed_at: datetime) -> tuple[Revision | None, bool, list[str]]:
    """Record the month's next revision when a customer's figures differ from the latest's (or it has none).
    Returns the latest revision afterwards, whether it is new, and the customers restated against the one
    before it. Never when the exports could not be listed: the figures would be the last store's, which may be
    stale, and the manifest could not name the exports they come from."""
    if scope.fingerprint == UNREACHABLE:
        raise CloseError(f"{scope.period.label} cannot be closed now: the exports cannot be reached, so its figures "
                         "would come from the last store, which may be stale; close it when they can be read again")
    restated: list[str] = []

    def make(latest: Revision | None, number: int) -> tuple[dict[str, bytes], dict] | None:
        before = latest.manifest()["customers"] if latest else {}
        found = with_close(latest, scope.packs)
        changed = [cid for cid, pack in found.items() if pack["close"] is None or pack["close"]["restated"]]
        gone = sorted(set(before) - set(found)) if scope.everyone else []
        if not changed and not gone:
            return None
        restated.extend(cid for cid in changed if cid in before)
        files = {} if scope.everyone or latest is None else {
            pack_file(cid, fmt): latest.file(pack_file(cid, fmt)) for cid in before if cid not in found
            for fmt in ("json", "csv")}
        for cid, pack in found.items():
            files[pack_file(cid, "json")] = handoff.to_json(pack).encode()
            files[pack_file(cid, "csv")] = handoff.to_csv(pack).encode()
        files[FOCUS_FILE] = _focus(scope, latest, number)
        customers = {**({} if scope.everyone else before), **{cid: totals(p) for cid, p in found.items()}}
        return files, {
            "period": scope.period.label, "revision": number, "closed_at": _iso(closed_at),
            "closed_by": scope.closed_by, "data_cutoff": scope.cutoff, "exports_fingerprint": scope.fingerprint,
            "app_version": app_version(), "customers": dict(sorted(customers.items())),
            "restated": restated, "removed": gone}

    latest, new = revisions.record(scope.period.label, make)
    return latest, new, restated


def restatements(revisions: Revisions, period: Period, found: dict[str, dict], latest: Revision | None = None,
                 closed: dict[str, dict] | None = None) -> dict:
    """Today's figures against the latest revision (found: packs, or now_compared()'s figures, by customer id):
    only the customers of that revision whose figures differ (a customer no longer in the exports is listed as
    removed; one added since was never handed off). latest: the period's latest revision when the caller has
    read it already; closed: closed_figures(latest) when the caller keeps them (else each pack is read)."""
    latest = latest or revisions.latest(period.label)
    if latest is None:
        raise CloseError(f"{period.label} was never closed: there is nothing to compare with")
    moved = []
    for cid, line in latest.manifest()["customers"].items():
        if cid not in found:
            moved.append({"customer_id": cid, "customer_name": line["customer_name"], "removed": True})
            continue
        before = closed[cid] if closed is not None and cid in closed else \
            json.loads(latest.file(pack_file(cid, "json")))
        if (change := difference(before, found[cid])) is not None:
            moved.append(change)
    return {"period": period.label, "revision": latest.revision, "closed_at": latest.closed_at, "customers": moved}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def restatement_lines(report: dict) -> list[str]:
    """restatements() for people: one line per customer whose figures moved."""
    lines = [f"{report['period']}: revision {report['revision']} closed {report['closed_at']}; "
             f"{len(report['customers'])} customer{'s' if len(report['customers']) != 1 else ''} restated"]
    for moved in report["customers"]:
        if moved.get("removed"):
            lines.append(f"{moved['customer_id']}: no longer in the exports")
            continue
        cost, hours = moved["managed_ai_cost_usd"], moved["runtime_hours"]
        providers = ", ".join(f"{p['provider']} {p['delta']}" for p in moved["providers"])
        lines.append(f"{moved['customer_id']}: managed AI {cost['closed']} -> {cost['now']} ({cost['delta']} USD"
                     + (f": {providers}" if providers else "") + f"); runtime {hours['closed']} -> {hours['now']} h; "
                     f"status {moved['status']['closed']} -> {moved['status']['now']}")
    return lines


def focus_file(latest: Revision | None, charges: Callable[[], list[focus.Charge]], period: Period, platform: str,
               customer_id: str | None = None) -> str:
    """A month's FOCUS file: the latest revision's (its Usage and Correction rows; one customer's when asked)
    when the month was closed, else the charges as of now (charges() is called only then)."""
    if latest is None or not (latest.folder / FOCUS_FILE).is_file():
        return focus.to_csv(focus.usage_rows(charges(), period, platform))
    rows = focus.read(latest.file(FOCUS_FILE).decode())
    return focus.to_csv([{k: (v if v != "" else None) for k, v in r.items()} for r in rows
                         if customer_id is None or r["BillingAccountId"] == customer_id])
