"""Billing (/billing): billing state, whether workspace creation is allowed, every gate, the next action."""
import pandas as pd
import streamlit as st

from usage_analytics import formatting
from usage_analytics.areas import Area
from usage_analytics import tables

CREATION = {False: "blocked", None: "unknown", True: "allowed"}  # workspace creation, in the table's order
UNKNOWN_TO_DO = ("Contact platform support: the account's latest billing snapshot in the exports could not be used, "
                 "so the platform must correct the export before the billing state can be told.")
WHAT_TO_DO = {
    "none": "Nothing to do: billing allows workspace creation.",
    "setup": "Finish billing setup: choose a billing mode, verify the payment method, or renew the trial.",
    "funding": "Add funds: top up the prepaid balance named below.",
    "support": "Contact platform support: the account or the trial needs a decision on their side.",
}


def _gates(readiness) -> None:
    st.subheader("Gates", anchor=False)
    with st.container(border=True):
        for gate in readiness.gates:
            icon = ":green[:material/check_circle:] pass" if gate.passed else ":red[:material/cancel:] fail"
            st.markdown(f"{icon} · **{gate.gate}** — {gate.detail}"
                        + ("" if gate.passed else f" → *{gate.action}*"))


def _balances(snapshot) -> None:
    if snapshot is None or (snapshot.prepaid_workspace_hours is None and snapshot.prepaid_ai_usd is None):
        return
    st.subheader("Prepaid balances", anchor=False)
    hours, money = st.columns(2)
    hours.metric("Workspace hours left", formatting.hours(snapshot.prepaid_workspace_hours or 0.0), border=True)
    money.metric("AI balance left", formatting.usd(snapshot.prepaid_ai_usd or 0), border=True)
    st.caption(f"Balances as of {snapshot.as_of:%Y-%m-%d %H:%M} UTC (the latest billing snapshot).")


def _one(item) -> None:
    readiness = item.billing
    if readiness.creation_allowed:
        st.success("**Workspace creation is allowed.** Next action: none.", icon=":material/check_circle:")
    elif readiness.creation_allowed is None:
        st.warning(f"**The billing state is unknown:** {formatting.literal(readiness.reason, None)}. Whether workspace "
                   "creation is allowed cannot be told from the exports. Next action: **support**.",
                   icon=":material/help:")
    else:
        st.error(f"**Workspace creation is blocked** because {formatting.literal(readiness.reason, None)}. "
                 f"Next action: **{readiness.next_action}**.", icon=":material/block:")
    mode, action, status = st.columns(3)
    mode.metric("Billing mode", readiness.billing_mode, border=True)
    unknown = readiness.creation_allowed is None
    what = UNKNOWN_TO_DO if unknown else WHAT_TO_DO[readiness.next_action]
    action.metric("Next action", readiness.next_action, border=True, help=what)
    status.metric("Account status", item.account.account_status, border=True)
    st.markdown(f"**What to do:** {what}")
    if unknown:  # (said above, with the refused value; no gate and no balance can be read from a snapshot in doubt)
        return
    _gates(readiness)
    _balances(readiness.snapshot)
    if readiness.snapshot is None:
        st.caption("There is no billing snapshot on record for this account.")
    else:
        st.caption(f"Evaluated as of {item.now:%Y-%m-%d %H:%M} UTC on the snapshot of "
                   f"{readiness.snapshot.as_of:%Y-%m-%d %H:%M} UTC.")


def _all(view, found: dict) -> None:
    table = pd.DataFrame([{
        "customer": s.account.customer_name, "customer_id": s.account.customer_id,
        "account_status": s.account.account_status, "billing_mode": s.billing.billing_mode,
        "creation": CREATION[s.billing.creation_allowed], "next_action": s.billing.next_action,
        "reason": s.billing.reason} for s in found.values()])
    table["creation"] = pd.Categorical(table["creation"], list(CREATION.values()), ordered=True)
    counts = table["next_action"].value_counts()
    for col, action in zip(st.columns(4), WHAT_TO_DO):
        col.metric(f"Next action: {action}", int(counts.get(action, 0)), border=True, help=WHAT_TO_DO[action])
    tables.show(view, table.sort_values(["creation", "next_action", "customer"]), "billing", hide_index=True,
                width="stretch", height=460, column_config={
                     "customer": "Customer", "customer_id": "Customer id", "account_status": "Account",
                     "billing_mode": "Billing mode", "creation": "Workspace creation", "next_action": "Next action",
                     "reason": "Why"})
    st.caption("Pick one customer in the sidebar to see every gate and the prepaid balances.")


def render(user, view) -> None:
    found = view.figures(Area.BILLING)
    if found is None:
        return
    if view.customer_id is None:
        _all(view, found)
    else:
        _one(found[view.customer_id])
