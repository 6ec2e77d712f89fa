"""The Operators page's table of every customer in scope: one row per customer, made once per set of figures.

Made from the figures alone (the attention queue's order and reasons are put on by the page, from the queue of
the moment), as a frame: 5,000 customers' rows cost about 100 ms of Python, which the page's every run (a
filter typed, a row selected) would otherwise spend again. caches.every_customer keeps it with the figures' key."""
from __future__ import annotations

import pandas as pd

from .summary import CustomerSummary

CREATION = {True: "allowed", False: "blocked", None: "unknown"}
COLUMNS = ["customer", "creation", "next_action", "reconciliation", "max_lag_days", "ai_cost_usd", "ai_status",
           "runtime_hours", "active_workspaces", "ai_tokens", "billing_mode", "account_status", "not_configured",
           "customer_id"]


def table(found: dict[str, CustomerSummary]) -> pd.DataFrame:
    """One row per customer, in the figures' order (by customer id): the columns of COLUMNS."""
    return pd.DataFrame([{
        "customer": s.account.customer_name,
        "creation": CREATION[s.billing.creation_allowed] if s.billing else "unknown",
        "next_action": s.billing.next_action if s.billing else None,
        "reconciliation": s.badge,
        "max_lag_days": max((p.lag_days for p in s.providers), default=None),
        "ai_cost_usd": float(s.ai_cost_usd),
        "ai_status": s.ai_status,
        "runtime_hours": round(s.runtime_hours, 2),
        "active_workspaces": s.active_workspaces,
        "ai_tokens": s.ai_tokens,
        "billing_mode": s.billing.billing_mode if s.billing else None,
        "account_status": s.account.account_status,
        "not_configured": ", ".join(s.not_configured),
        "customer_id": cid,
    } for cid, s in found.items()], columns=COLUMNS)
