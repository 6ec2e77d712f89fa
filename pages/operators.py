"""Operators (/operators): every customer's billing state, readiness, usage and reconciliation; trends."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

from decimal import Decimal

import pandas as pd
import streamlit as st

from usage_analytics import attention, charts, coverage, drawing, formatting, rules, summary
from usage_analytics.session_keys import (OPS_ACTIONS, OPS_BADGES, OPS_BLOCKED, OPS_QUEUE_KINDS, OPS_SEARCH,
                                          SCOPE_CUSTOMER)
from usage_analytics.view import MONEY_HELP, empty
from usage_analytics import tables
from usage_analytics.areas import Area


# What an operator acts on first, then the figures: the customer stays pinned at the left.
COLUMNS = {
    "customer": st.column_config.TextColumn("Customer", pinned=True),
    "creation": "Creation", "next_action": "Next action", "reconciliation": "Reconciliation",
    "max_lag_days": st.column_config.NumberColumn("Lag (days)", help="The largest lag of its linked providers today"),
    "attention": st.column_config.TextColumn("Needs attention", help="Its most urgent reason in the queue above"),
    "ai_cost_usd": st.column_config.NumberColumn("AI cost", format="dollar", help=MONEY_HELP),
    "ai_status": "AI total",
    "runtime_hours": st.column_config.NumberColumn("Runtime h", format="%.2f"),
    "active_workspaces": st.column_config.NumberColumn("Workspaces"),
    "ai_tokens": st.column_config.NumberColumn("AI tokens", format="compact"),
    "billing_mode": "Billing mode", "account_status": "Account", "not_configured": "Not configured",
    "customer_id": "Customer id",
}


def _table(view, entries: list) -> pd.DataFrame:
    """One row per customer (every_customer.table, made once with the figures), in the attention queue's order
    (most urgent first), then the others by name."""
    rank = {e.customer_id: (i, attention.KIND_LABELS[e.reasons[0].kind]) for i, e in enumerate(entries or [])}
    table = view.every_customer()
    ids = table["customer_id"]
    table = table.assign(attention=ids.map(lambda c: rank.get(c, (None, None))[1]),
                         _rank=ids.map(lambda c: rank.get(c, (len(rank), None))[0]))[[*COLUMNS, "_rank"]]
    by_name = lambda c: c.str.lower() if pd.api.types.is_string_dtype(c) else c  # noqa: E731 (names: any case)
    table = table.sort_values(["_rank", "customer"], key=by_name)
    return table.drop(columns="_rank").reset_index(drop=True)


def _open_selected(view, frame: pd.DataFrame, event) -> None:
    """A selected row opens that customer's Overview (the sidebar's customer set to it)."""
    rows = event.selection.rows if event is not None else []
    if rows and "overview" in view.links:
        st.session_state[SCOPE_CUSTOMER] = frame.iloc[rows[0]]["customer_id"]
        st.switch_page(view.links["overview"])


def _filters(table: pd.DataFrame) -> pd.DataFrame:
    search, actions, badges, blocked = st.columns([2, 2, 2, 1])
    text = search.text_input("Search customers", placeholder="name or id", key=OPS_SEARCH)
    wanted_actions = actions.multiselect("Next action", ["none", "setup", "funding", "support"], key=OPS_ACTIONS)
    wanted_badges = badges.multiselect("Reconciliation", list(rules.BADGE_ORDER), key=OPS_BADGES)
    only_blocked = blocked.toggle("Blocked only", key=OPS_BLOCKED)
    keep = pd.Series(True, index=table.index)
    if text:
        needle = text.strip().lower()
        keep &= table["customer"].str.lower().str.contains(needle, regex=False) | \
            table["customer_id"].str.lower().str.contains(needle, regex=False)
    if wanted_actions:
        keep &= table["next_action"].isin(wanted_actions)
    if wanted_badges:
        keep &= table["reconciliation"].isin(wanted_badges)
    if only_blocked:
        keep &= table["creation"] == "blocked"  # (unknown: the billing state cannot be told, not blocked)
    return table[keep]


def _trends(found: dict, table: pd.DataFrame, view) -> None:
    st.subheader("Trends across customers", anchor=False)
    runtime, ai = summary.trend(found, "runtime"), summary.trend(found, "ai_daily")  # summed per day in SQL
    left, right = st.columns(2)
    with left:
        st.markdown("**Workspace runtime per day**")
        if not runtime.empty:
            drawing.draw(charts.runtime_over_time(
                runtime, period=view.period, now=view.now, projection=summary.daily_rate(list(found.values()),
                                                                                          "runtime_hours")), width="stretch")
        else:
            view.nothing("No workspace ran in this period.", coverage.RUNTIME)
    with right:
        st.markdown("**Managed-AI cost per day** (light, dashed: not yet reconciled; outlined: today so far)")
        if not ai.empty:
            drawing.draw(charts.ai_over_time(
                ai, period=view.period, now=view.now, projection=summary.daily_rate(list(found.values()),
                                                                                    "ai_cost_usd")), width="stretch")
        else:
            view.nothing("No managed-AI usage from a linked provider in this period.", coverage.MANAGED_AI)
    left, right = st.columns(2)
    with left:
        st.markdown("**Top customers by managed-AI cost**")
        drawing.draw(charts.bars(table[["customer", "ai_cost_usd"]], "customer", "ai_cost_usd", "cost (USD)",
                                 money=True), width="stretch")  # (the columns it draws: its key hashes them)
    with right:
        st.markdown("**Top customers by workspace runtime**")
        drawing.draw(charts.bars(table[["customer", "runtime_hours"]], "customer", "runtime_hours", "runtime hours"),
                     width="stretch")


def _queue(view, entries: list | None) -> None:
    """The attention queue, first: who needs action now or soon, most urgent first; counts per reason filter it,
    and a row opens that customer's Overview."""
    if entries is None:
        return
    st.subheader("Needs attention now or soon", anchor=False)
    if not entries:
        st.success("No customer needs action now or soon.", icon=":material/check_circle:")
        return
    counts = attention.counts(entries)
    picked = st.pills("Reasons", [k for k in attention.KINDS if counts[k]], selection_mode="multi",
                      format_func=lambda k: f"{attention.KIND_LABELS[k]} · {counts[k]}", key=OPS_QUEUE_KINDS,
                      help="Customers per reason (one with two reasons counts in both). Pick some to show only them.")
    shown = [e for e in entries if not picked or any(r.kind in picked for r in e.reasons)]
    frame = pd.DataFrame([{  # one row per reason, so every reason can be read whole; the customer's rows together
        "customer": e.customer_name, "reason": attention.KIND_LABELS[r.kind], "detail": r.detail,
        "next_action": r.next_action, "due": r.due.isoformat() if r.due else "", "customer_id": e.customer_id}
        for e in shown for r in e.reasons], columns=["customer", "reason", "detail", "next_action", "due", "customer_id"])
    event = tables.show(view, frame, "attention", when=f"{view.now:%Y-%m-%d}", hide_index=True, width="stretch",
                        height=min(38 + 35 * len(frame), 420), on_select="rerun", selection_mode="single-row",
                        key="ops_queue", column_config={
                            "customer": "Customer", "reason": "Reason",
                            "detail": st.column_config.TextColumn("Why", width="large"),
                            "next_action": "Next action",
                            "due": st.column_config.TextColumn("Due", help="When a balance runs out or a trial ends"),
                            "customer_id": "Customer id"})
    st.caption(f"{len(shown)} of {len(entries)} customers ({len(frame)} reasons), most urgent first: blocked, low or "
               "overdrawn balance, trial ending, data, reconciliation, restated, onboarding stalled; the sooner due "
               f"first. As of {view.now:%Y-%m-%d %H:%M} UTC, from this month's figures whatever period is picked. "
               "Select a row to open that customer's Overview.")
    _open_selected(view, frame, event)


def render(user, view) -> None:
    found = view.summaries()
    if found is None:
        return
    if not found:
        empty("There are no customers in the exports yet.")
        return
    view.unavailable(found, Area.RUNTIME, Area.AI, Area.BILLING)  # the table shows what it can
    entries = view.attention()
    _queue(view, entries)
    st.subheader("Every customer", anchor=False)
    table = _table(view, entries)
    total, blocked, risk, cost = st.columns(4)
    total.metric("Customers", len(table), border=True)
    blocked.metric("Cannot create workspaces", int((table["creation"] == "blocked").sum()),
                   border=True)
    risk.metric("Reconciliation at risk", int(table["reconciliation"].map(rules.needs_attention).sum()),
                border=True, help="A mismatch in the period, or a provider more than 3 days behind.")
    ai_cost = sum((s.ai_cost_usd for s in found.values()), Decimal(0))
    status = summary.overall_status(list(found.values()))
    cost.metric(f"Managed-AI cost · {status}", formatting.figure(formatting.usd_card(ai_cost), status), border=True,
                help=f"Exact: {formatting.usd(ai_cost, 6)}")

    shown = _filters(table)
    event = tables.show(view, shown, "operators", hide_index=True, width="stretch", column_config=COLUMNS,
                        on_select="rerun", selection_mode="single-row", key="ops_table")
    st.caption(f"{len(shown)} of {len(table)} customers shown, the attention queue's order first (most urgent at "
               "the top), then by name; click a column header to sort. Select a row to open that customer's "
               "Overview. Download CSV takes the rows shown, with every column.")
    _open_selected(view, shown.reset_index(drop=True), event)
    _trends(found, table, view)
