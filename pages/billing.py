"""Billing (/billing): billing state, whether workspace creation is allowed, every gate, the next action."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import pandas as pd
import streamlit as st

from usage_analytics import formatting, outlook
from usage_analytics.areas import Area
from usage_analytics import tables

BALANCE_STATES = {"overdrawn": ":red-badge[overdrawn]", "empty": ":red-badge[used up]", "low": ":orange-badge[low]",
                  "ok": ":green-badge[ok]"}
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


def _balance(b) -> None:
    with st.container(border=True):
        st.markdown(f"**{b.name[0].upper()}{b.name[1:]}** · {BALANCE_STATES[b.state]}")
        now, burn, runway = st.columns(3)
        now.metric("Estimated now", b.amount(b.estimated_now), f"{b.amount(b.used_since)} used since the snapshot"
                   if b.used_since else None, delta_color="off", delta_arrow="off",
                   help="The snapshot's balance less the usage since it: an estimate, not the platform's figure. "
                        + b.exact(b.estimated_now))
        burn.metric("Burn per day", b.amount(b.burn_per_day), help=f"Usage over the last {outlook.TRAILING_DAYS} whole "
                    "UTC days before today, divided by 7. " + b.exact(b.burn_per_day))
        out = b.state in ("overdrawn", "empty")
        runway.metric("Runway", "none left" if out else "—" if b.runway_days is None else f"{b.runway_days:.1f} days",
                      None if out or b.runs_out_on is None else f"runs out {b.runs_out_on:%Y-%m-%d}",
                      delta_color="off", delta_arrow="off",
                      help="Estimated now ÷ burn per day. None when nothing was used in the last 7 whole days.")
        st.caption(f"Snapshot {b.amount(b.snapshot)} as of {b.as_of:%Y-%m-%d %H:%M} UTC − used since "
                   f"{b.amount(b.used_since)} = estimated {b.amount(b.estimated_now)} now."
                   + "".join(f" Note: {note}." for note in b.notes))


def _running_out(item) -> None:
    """Under the verdict: each prepaid balance or approved trial that runs out within LOW_BALANCE_DAYS, by the
    estimates (beside the verdict, which stays the one of the platform's snapshot)."""
    for b in item.balances or ():
        if b.low:
            say = st.error if b.state in ("overdrawn", "empty") else st.warning
            say(f"**By the estimate, the {b.name} {b.runway_text()}:** add funds"
                + (" before the platform's next billing snapshot blocks workspace creation." if b.snapshot > 0
                   and item.billing.creation_allowed else "."), icon=":material/savings:")
    trial = item.trial
    if trial is not None and trial.ending:
        st.warning(f"**{trial.text()[0].upper()}{trial.text()[1:]}:** set up paid billing (verify a payment "
                   "method) so workspace creation does not stop.", icon=":material/hourglass_bottom:")


def _ahead(item) -> None:
    """The prepaid balances estimated now, or an approved trial's days left."""
    balances, trial = item.balances, item.trial
    if balances:
        st.subheader("Prepaid balances now (estimated)", anchor=False)
        for b in balances:
            _balance(b)
        st.caption(f"Estimates as of {item.now:%Y-%m-%d %H:%M} UTC: usage since the snapshot by the same rules as "
                   f"the Workspace runtime and Managed AI pages (linked providers only). A balance is low when it "
                   f"lasts under {item.low_days:g} days at the last {outlook.TRAILING_DAYS} days' burn.")
    elif trial is not None:
        st.subheader("Trial", anchor=False)
        left, _ = st.columns([1, 2])
        left.metric("Trial days left", "—" if trial.days_left is None else f"{trial.days_left:.1f}",
                    None if trial.ends_at is None else f"ends {trial.ends_at:%Y-%m-%d %H:%M} UTC", delta_color="off",
                    delta_arrow="off", border=True, help="The trial has no end date." if trial.ends_at is None else None)


SOON_TO_DO = {
    "funding": "Add funds: by the estimate of the usage since the platform's last billing snapshot, a prepaid balance "
               "is low or used up, and the next snapshot will block workspace creation once it is.",
    "setup": "Set up paid billing (verify a payment method) before the trial ends, or workspace creation stops then.",
}


def _one(item) -> None:
    readiness = item.billing
    ahead = outlook.soon(item.balances, item.trial) if readiness.creation_allowed else None
    if readiness.creation_allowed and ahead:
        st.warning(f"**Workspace creation is allowed** by the platform's billing snapshot of "
                   f"{readiness.snapshot.as_of:%Y-%m-%d %H:%M} UTC, but not for long: see below. Next action: "
                   f"**{ahead[0]}**.", icon=":material/warning:")
    elif readiness.creation_allowed:
        st.success("**Workspace creation is allowed.** Next action: none.", icon=":material/check_circle:")
    elif readiness.creation_allowed is None:
        st.warning(f"**The billing state is unknown:** {formatting.literal(readiness.reason, None)}. Whether workspace "
                   "creation is allowed cannot be told from the exports. Next action: **support**.",
                   icon=":material/help:")
    else:
        st.error(f"**Workspace creation is blocked** because {formatting.literal(readiness.reason, None)}. "
                 f"Next action: **{readiness.next_action}**.", icon=":material/block:")
    _running_out(item)
    mode, action, status = st.columns(3)
    mode.metric("Billing mode", readiness.billing_mode, border=True)
    unknown = readiness.creation_allowed is None
    what = UNKNOWN_TO_DO if unknown else SOON_TO_DO[ahead[0]] if ahead else WHAT_TO_DO[readiness.next_action]
    action.metric("Next action", ahead[0] if ahead else readiness.next_action, border=True,
                  help=what + (" (The platform's snapshot itself asks for none yet.)" if ahead else ""))
    status.metric("Account status", item.account.account_status, border=True)
    st.markdown(f"**What to do:** {what}")
    if unknown:  # (said above, with the refused value; no gate and no balance can be read from a snapshot in doubt)
        return
    _gates(readiness)
    _ahead(item)
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
        "reason": s.billing.reason, "estimate": _estimate(s)} for s in found.values()])
    table["creation"] = pd.Categorical(table["creation"], list(CREATION.values()), ordered=True)
    counts = table["next_action"].value_counts()
    for col, action in zip(st.columns(5), WHAT_TO_DO):
        col.metric(f"Next action: {action}", int(counts.get(action, 0)), border=True, help=WHAT_TO_DO[action])
    st.columns(5)[4].metric("Running out (estimate)", int(table["estimate"].astype(bool).sum()), border=True,
                            help="Allowed by the platform's snapshot, but a prepaid balance is low or overdrawn, or an "
                                 "approved trial ends soon, by the estimate (see the Operators page's queue).")
    tables.show(view, table.sort_values(["creation", "next_action", "customer"]), "billing", hide_index=True,
                width="stretch", height=460, column_config={
                     "customer": "Customer", "customer_id": "Customer id", "account_status": "Account",
                     "billing_mode": "Billing mode", "creation": "Workspace creation", "next_action": "Next action",
                     "reason": "Why", "estimate": "Running out (estimate)"})
    st.caption("Pick one customer in the sidebar to see every gate and the prepaid balances.")


def _estimate(item) -> str:
    """What the estimates say for one customer allowed now: "" when nothing runs out."""
    ahead = outlook.soon(item.balances, item.trial) if item.billing.creation_allowed else None
    return "" if ahead is None else f"{ahead[0]}: {'; '.join(ahead[1])}"


def render(user, view) -> None:
    found = view.figures(Area.BILLING)
    if found is None:
        return
    if view.customer_id is None:
        _all(view, found)
    else:
        _one(found[view.customer_id])
