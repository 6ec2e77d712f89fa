"""Managed-AI charges as a FOCUS 1.2 file (the FinOps Foundation's cost and usage format) for cost tools: one
Usage row per customer, provider, model and UTC day of linked providers, and Correction rows that bring the
file of an earlier month-close revision to a later one.

Columns: FOCUS 1.2's 21 Mandatory columns, the Recommended ones this data can fill (ChargeFrequency,
InvoiceId, ServiceSubcategory), and the Conditional ones it supports (ConsumedQuantity and ConsumedUnit,
SkuId, SkuPriceId, SkuMeter); the Conditional columns of features the platform does not have (regions,
commitment discounts, capacity reservations, sub accounts, resources, tags, unit prices, pricing currencies,
billing account types) are left out, as the spec's presence rules allow. Custom columns follow, prefixed x_.
Workspace runtime has no price in the exports, so it is not in this file."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from . import handoff, rules
from .spreadsheet import csv_text
from .contract import TOKEN_COUNTS
from .periods import Period
from .summary import CustomerSummary

FOCUS_COLUMNS = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "EffectiveCost", "InvoiceId",
    "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceId",
)
CUSTOM_COLUMNS = ("x_ReconciliationStatus", "x_Requests", "x_InputTokens", "x_CachedInputTokens", "x_OutputTokens",
                  "x_Revision")
COLUMNS = FOCUS_COLUMNS + CUSTOM_COLUMNS
COUNTS = ("requests", *TOKEN_COUNTS)
_COUNT_COLUMNS = ("x_Requests", "x_InputTokens", "x_CachedInputTokens", "x_OutputTokens")


@dataclass(frozen=True)
class Charge:
    """Managed-AI usage of one customer, linked provider and model on one UTC day."""
    customer_id: str
    customer_name: str
    provider: str
    model: str
    day: date
    cost_usd: Decimal
    counts: tuple[int, int, int, int]  # requests, input, cached input, output tokens
    status: str  # that day's reconciliation status

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.customer_id, self.provider, self.model, self.day.isoformat()


def charges(found: dict[str, CustomerSummary]) -> list[Charge]:
    """Every customer's managed-AI charges per day, provider and model (linked providers only)."""
    found_rows = []
    for cid, figures in sorted(found.items()):
        daily = figures.ai_daily
        for day, provider, model, cost, status, *counts in zip(
                daily["day"], daily["provider"], daily["model"], daily["cost_usd"], daily["reconciliation_status"],
                *(daily[name] for name in COUNTS)):
            found_rows.append(Charge(cid, figures.account.customer_name, provider, model, _date(day), cost,
                                     tuple(int(c) for c in counts), status))
    return found_rows


def _date(value) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _iso(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(charge: Charge, period: Period, platform: str, cost: Decimal, counts: tuple, correction: bool,
         revision: int | None) -> dict:
    money, tokens = f"{rules.usd(cost):f}", sum(counts[1:])
    what = "Correction of managed-AI usage" if correction else "Managed-AI usage"
    return {
        "BilledCost": money, "BillingAccountId": charge.customer_id, "BillingAccountName": charge.customer_name,
        "BillingCurrency": "USD", "BillingPeriodEnd": _iso(period.last_day + timedelta(days=1)),
        "BillingPeriodStart": _iso(period.first_day), "ChargeCategory": "Usage",
        "ChargeClass": "Correction" if correction else None,
        "ChargeDescription": f"{what}: {charge.model} via {charge.provider}, {charge.day:%Y-%m-%d} UTC",
        "ChargeFrequency": "Usage-Based", "ChargePeriodEnd": _iso(charge.day + timedelta(days=1)),
        "ChargePeriodStart": _iso(charge.day), "ConsumedQuantity": tokens, "ConsumedUnit": "Tokens",
        "ContractedCost": money, "EffectiveCost": money, "InvoiceId": None, "InvoiceIssuerName": platform,
        "ListCost": money, "PricingQuantity": tokens, "PricingUnit": "Tokens", "ProviderName": platform,
        "PublisherName": charge.provider, "ServiceCategory": "AI and Machine Learning",
        "ServiceName": charge.provider, "ServiceSubcategory": "Generative AI", "SkuId": charge.model,
        "SkuMeter": "Tokens", "SkuPriceId": charge.model, "x_ReconciliationStatus": charge.status,
        **dict(zip(_COUNT_COLUMNS, counts)), "x_Revision": revision,
    }


def usage_rows(found: list[Charge], period: Period, platform: str, revision: int | None = None) -> list[dict]:
    """One Usage row per charge."""
    return [_row(c, period, platform, c.cost_usd, c.counts, False, revision) for c in found]


def corrections(earlier: list[dict], found: list[Charge], period: Period, platform: str, revision: int,
                customers: set[str] | None = None) -> list[dict]:
    """Correction rows that bring the rows of an earlier file to these charges: per customer, provider, model and
    day, the difference of cost and counts where there is one (customers: only these are compared)."""
    before: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0, 0, 0, 0])
    names = {}
    for row in earlier:
        key = (row["BillingAccountId"], row["ServiceName"], row["SkuId"], row["ChargePeriodStart"][:10])
        names[key] = row
        summed = before[key]
        summed[0] += Decimal(row["BilledCost"])
        for index, column in enumerate(_COUNT_COLUMNS, 1):
            summed[index] += int(row[column])
    now = {c.key: c for c in found}
    fixed = []
    for key in sorted(now.keys() | before.keys()):
        if customers is not None and key[0] not in customers:
            continue
        old = before.get(key, [Decimal(0), 0, 0, 0, 0])
        charge = now.get(key) or _gone(names[key])
        delta = (charge.cost_usd - old[0], tuple(n - o for n, o in zip(charge.counts, old[1:])))
        if delta[0] or any(delta[1]):
            fixed.append(_row(charge, period, platform, delta[0], delta[1], True, revision))
    return fixed


def _gone(row: dict) -> Charge:
    """A charge of an earlier file that is no longer there: nothing, now."""
    return Charge(row["BillingAccountId"], row["BillingAccountName"], row["ServiceName"], row["SkuId"],
                  date.fromisoformat(row["ChargePeriodStart"][:10]), Decimal(0), (0, 0, 0, 0), "missing")


# The columns whose text comes from the exports (ids, names, providers, models, a status; the description holds a
# model and a provider): a spreadsheet must not run them as formulas, so they go through handoff.cell. Only these:
# the other columns are ours, and numbers among them stay numbers (a Correction's negative amounts start with '-').
_TEXT = {"BillingAccountId", "BillingAccountName", "ChargeDescription", "PublisherName", "ServiceName", "SkuId",
         "SkuPriceId", "x_ReconciliationStatus"}


def _text(value: object) -> str:
    """An export string's cell: neutralised by handoff.cell, and one that starts with an apostrophe given one more,
    so that read() can take exactly one off any value that starts with one and give back what was written."""
    return "'" + value if isinstance(value, str) and value.startswith("'") else handoff.cell(value)


def to_csv(rows: list[dict], header: bool = True) -> str:
    lines = ([_text(row.get(c)) if c in _TEXT else "" if row.get(c) is None else row[c] for c in COLUMNS]
             for row in rows)
    return csv_text([COLUMNS, *lines] if header else lines)


def read(text: str) -> list[dict]:
    """The rows of a FOCUS file written by to_csv, its export strings as they were before they were neutralised
    (corrections and a customer's own rows compare them with the exports' ids)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for column in _TEXT & row.keys():
            if row[column].startswith("'"):
                row[column] = row[column][1:]
    return rows
