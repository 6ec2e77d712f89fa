"""The billing handoff pack of docs/product.md §6: built from the same summary the pages show."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal

from . import rules, spreadsheet
from .contract import USAGE_COUNTS
from .summary import CustomerSummary

CSV_COLUMNS = (
    "customer_id", "customer_name", "period_start", "period_end", "period_final", "generated_at",
    "provider", "cost_usd", *USAGE_COUNTS, "status", "badge", "reconciled_through", "lag_days",
    "provider_cost_usd", "mismatch_usd", "workspace_runtime_hours", "workspace_runtime_status", "billing_mode",
    "creation_allowed", "next_action", "billing_gates", "workspace_hours_estimated_now", "workspace_hours_runway_days",
    "ai_usd_estimated_now", "ai_usd_runway_days", "balance_low", "closed_revision", "restated", "data_as_of",
    "data_coverage", "unread_files", "rejected_rows", "provisional_because",
)
TOTAL_ROW = "TOTAL"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: Decimal) -> str:
    return f"{rules.usd(amount):f}"


def _counts(counts: dict[str, int]) -> str:
    """{'ai_usage': 1} as 'ai_usage: 1' for a CSV cell."""
    return "; ".join(f"{name}: {count}" for name, count in counts.items())


def pack(summary: CustomerSummary, close: dict | None = None) -> dict:
    """The handoff pack as plain JSON-ready data; money as 6-place decimal strings. close: the month's latest
    close and whether its figures moved since (closing.close_block), None when the month was never closed."""
    account, period, readiness = summary.account, summary.period, summary.billing
    return {
        "customer": {"customer_id": account.customer_id, "customer_name": account.customer_name},
        "period": {"start": _iso(period.start), "end": _iso(period.end), "final": period.has_ended(summary.now)},
        "generated_at": _iso(summary.now),
        "data": {**summary.data.block(), "rejected_rows": summary.rejected_rows},
        "workspace_runtime_hours": round(summary.runtime_hours, 2),
        "workspace_runtime_status": summary.runtime_status,
        "managed_ai": {
            "cost_usd": _money(summary.ai_cost_usd),
            **{field: summary.ai_total(field) for field in USAGE_COUNTS},
            "status": summary.ai_status,
            "provisional_because": summary.provisional_because,
            "providers": [
                {
                    "provider": p.provider,
                    "cost_usd": _money(p.cost_usd),
                    **{field: getattr(p, field) for field in USAGE_COUNTS},
                    "status": p.status,
                    "badge": p.badge,
                    "reconciled_through": p.reconciled_through.isoformat(),
                    "lag_days": p.lag_days,
                    "provider_cost_usd": None if p.provider_cost_usd is None else _money(p.provider_cost_usd),
                    "mismatch_usd": _money(p.mismatch_usd),
                }
                for p in summary.providers
            ],
            "not_configured": list(summary.not_configured),
        },
        "billing": {
            "billing_mode": readiness.billing_mode,
            "creation_allowed": readiness.creation_allowed,
            "next_action": readiness.next_action,
            "reason": readiness.reason,
            "gates": [{"gate": g.gate, "passed": g.passed, "detail": g.detail} for g in readiness.gates],
            "balances": _balances(summary),
        },
        "close": close,
    }


def compared_figures(summary: CustomerSummary) -> dict:
    """Only what a restatement compares and says (closing.compared, closing.difference): the customer, runtime
    hours, and the managed-AI totals and status per provider and overall, each as pack() has it. Made without
    the rest of the pack (texts, billing, balances) for the thousands of customers of every closed month."""
    account = summary.account
    return {
        "customer": {"customer_id": account.customer_id, "customer_name": account.customer_name},
        "workspace_runtime_hours": round(summary.runtime_hours, 2),
        "managed_ai": {
            "cost_usd": _money(summary.ai_cost_usd),
            **{field: summary.ai_total(field) for field in USAGE_COUNTS},
            "status": summary.ai_status,
            "providers": [{"provider": p.provider, "cost_usd": _money(p.cost_usd),
                           **{field: getattr(p, field) for field in USAGE_COUNTS}, "status": p.status}
                          for p in summary.providers],
            "not_configured": list(summary.not_configured),
        },
    }


def _balances(summary: CustomerSummary) -> dict | None:
    """A prepaid account's balances estimated as of generated_at (outlook.Balance.block); None when the account
    is not prepaid. An estimate beside the readiness verdict, which reads the platform's snapshot."""
    found = summary.balances
    return None if found is None else {b.kind: b.block() for b in found}


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # a signed decimal: a spreadsheet reads it as the number it is


def cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading apostrophe (a plain
    signed number, such as a negative delta "-1.000000", stays a number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _rows(data: dict) -> list[dict]:
    """One row per provider (linked ones, then those without reconciliation) plus a TOTAL row."""
    ai, billing = data["managed_ai"], data["billing"]
    common = {
        "customer_id": data["customer"]["customer_id"],
        "customer_name": data["customer"]["customer_name"],
        "period_start": data["period"]["start"],
        "period_end": data["period"]["end"],
        "period_final": data["period"]["final"],
        "generated_at": data["generated_at"],
        "closed_revision": data["close"]["revision"] if data["close"] else None,
        "restated": data["close"]["restated"] if data["close"] else None,
        "data_as_of": data["data"]["as_of"],
        "data_coverage": data["data"]["coverage"],
    }
    rows = [{**common, **p} for p in ai["providers"]]
    rows += [{**common, "provider": name, "status": rules.NOT_CONFIGURED, "badge": rules.NOT_CONFIGURED}
             for name in ai["not_configured"]]
    rows.append({
        **common,
        "provider": TOTAL_ROW,
        "cost_usd": ai["cost_usd"],
        **{field: ai[field] for field in USAGE_COUNTS},
        "status": ai["status"],
        "provider_cost_usd": _money(sum((Decimal(p["provider_cost_usd"]) for p in ai["providers"]
                                         if p["provider_cost_usd"] is not None), Decimal(0))),
        "mismatch_usd": _money(sum((Decimal(p["mismatch_usd"]) for p in ai["providers"]), Decimal(0))),
        "workspace_runtime_hours": data["workspace_runtime_hours"],
        "workspace_runtime_status": data["workspace_runtime_status"],
        "unread_files": _counts(data["data"]["unread_files"]),
        "rejected_rows": _counts(data["data"]["rejected_rows"]),
        "provisional_because": "; ".join(ai["provisional_because"]),
        "billing_mode": billing["billing_mode"],
        "creation_allowed": billing["creation_allowed"],
        "next_action": billing["next_action"],
        "billing_gates": "; ".join(f"{g['gate']}: {'pass' if g['passed'] else 'fail'}" for g in billing["gates"]),
        **_balance_cells(billing.get("balances")),
    })
    return rows


def _balance_cells(balances: dict | None) -> dict:
    """The TOTAL row's balance columns (empty for an account that is not prepaid)."""
    if not balances:
        return {}
    cells = {f"{kind}_{field}": block[field] for kind, block in balances.items()
             for field in ("estimated_now", "runway_days")}
    return {**cells, "balance_low": any(block["low"] for block in balances.values())}


def _csv(rows: list[dict]) -> str:
    return spreadsheet.csv_text([CSV_COLUMNS, *([cell(row.get(column)) for column in CSV_COLUMNS] for row in rows)])


def to_csv(data: dict) -> str:
    """A pack as CSV: one row per provider (linked ones, then those without reconciliation) plus a TOTAL row."""
    return _csv(_rows(data))


def to_csv_all(packs: list[dict]) -> str:
    """Several customers' packs in one CSV: every customer's rows under one header."""
    return _csv([row for data in packs for row in _rows(data)])


def to_json_all(packs: list[dict]) -> str:
    """Several customers' packs in one JSON list."""
    return json.dumps(packs, indent=2) + "\n"
