"""Reconciliation (/reconciliation): lag badge per provider, a calendar heat map, and can we quote final."""
import pandas as pd
import streamlit as st

from usage_analytics import charts, formatting, quote, rules, summary
from usage_analytics.view import empty
from usage_analytics.access import Action, can
from usage_analytics.areas import Area


def _badges(item) -> None:
    for p in item.providers:
        with st.container(border=True):
            name, badge, lag, status = st.columns([1.2, 1, 3, 1.2])
            name.markdown(f"**{formatting.literal(p.provider)}**")
            badge.markdown(formatting.badge(p.badge))
            lag.markdown(formatting.lag_text(p.reconciled_through, p.lag_days))
            status.markdown(f"total: **{p.status}**")
    for provider in item.not_configured:
        with st.container(border=True):
            name, badge, text = st.columns([1.2, 1, 4.2])
            name.markdown(f"**{formatting.literal(provider)}**")
            badge.markdown(formatting.badge(rules.NOT_CONFIGURED))
            text.markdown("usage exists but reconciliation is not configured, so it is not attributed")


def _all_customers_table(found: dict) -> pd.DataFrame:
    rows = [{"customer": s.account.customer_name, "customer_id": s.account.customer_id, "provider": p.provider,
             "badge": p.badge, "reconciled_through": p.reconciled_through, "lag_days": p.lag_days,
             "total": p.status} for s in found.values() for p in s.providers]
    rows += [{"customer": s.account.customer_name, "customer_id": s.account.customer_id, "provider": provider,
              "badge": "not configured"} for s in found.values() for provider in s.not_configured]
    table = pd.DataFrame(rows, columns=["customer", "customer_id", "provider", "badge", "reconciled_through",
                                        "lag_days", "total"])  # (its columns also when no customer has a pair)
    table["rank"] = table["badge"].map(rules.BADGE_ORDER.index)
    return table.sort_values(["rank", "lag_days", "customer"], ascending=[True, False, True]).drop(columns="rank")


CALENDAR_ROWS = 40  # customer–provider rows drawn for all customers (5,000 customers make 13,500 of them)


def _calendar(found: dict, every: bool, pairs: pd.DataFrame | None = None) -> None:
    st.subheader("Status per provider and day", anchor=False)
    order, shown = None, ""
    if every and pairs is not None:  # the badge table's pairs as filtered, worst first
        used = {(cid, p.provider) for cid, s in found.items() for p in s.providers if p.requests or p.cost_usd}
        # (only pairs with usage in the period have days to draw)
        drawn = pairs.loc[[(c, p) in used for c, p in zip(pairs["customer_id"], pairs["provider"])]]
        shown = (f"The first {CALENDAR_ROWS} of the {len(drawn):,} customer–provider pairs in the table above with "
                 "usage in the period, in its order (worst first). Pick a customer in the sidebar to see all of its "
                 "providers. " if len(drawn) > CALENDAR_ROWS else
                 "The customer–provider pairs in the table above with usage in the period. ")
        drawn = drawn.head(CALENDAR_ROWS)
        order = [f"{c} · {p}" for c, p in zip(drawn["customer"], drawn["provider"])]
        found = {cid: found[cid] for cid in dict.fromkeys(drawn["customer_id"])}
    daily = summary.combined(found, "ai_daily")
    if daily.empty:
        empty("None of the customer–provider pairs in the table has usage in this period." if order is not None
                 else "No day in this period has managed-AI usage from a linked provider, so there is nothing to "
                 "reconcile yet.")
        return
    daily["row"] = (daily["customer"] + " · " + daily["provider"]) if every else daily["provider"]
    if order is not None:
        daily = daily[daily["row"].isin(order)]
    st.altair_chart(charts.reconciliation_calendar(charts.calendar_days(daily, "row"), "row", order),
                    width="stretch")
    st.caption(shown + "One cell per UTC day with usage. Matched: the provider's figure agrees with ours. Pending: "
               "not matched yet. Missing: usage with no reconciliation row. Mismatch: the figures disagree.")


def _projects(view) -> None:
    links = view.provider_projects()
    with st.expander(f"Provider projects (operators only) · {len(links)} links"):
        st.dataframe(links, hide_index=True, width="stretch")


def render(user, view) -> None:
    found = view.figures(Area.AI)
    if found is None:
        return
    every = view.customer_id is None
    if every:
        table = _all_customers_table(found)
        counts = table["badge"].value_counts()
        cols = st.columns(len(rules.BADGE_ORDER))
        for col, label in zip(cols, rules.BADGE_ORDER):
            col.metric(label, int(counts.get(label, 0)), border=True, help="customer–provider pairs")
        shown = st.multiselect("Show badges", rules.BADGE_ORDER, default=list(rules.NEEDS_ATTENTION), key="recon_badges")
        table = table[table["badge"].isin(shown)]
        st.dataframe(table, hide_index=True,
                     width="stretch", column_config={
                         "customer": "Customer", "customer_id": "Customer id", "provider": "Provider",
                         "badge": "Badge", "reconciled_through": "Reconciled through",
                         "lag_days": st.column_config.NumberColumn("Lag (days)"), "total": "Total"})
    else:
        item = found[view.customer_id]
        can_quote, sentence = quote.final_quote(item)
        (st.success if can_quote else st.warning)(sentence, icon=":material/gavel:")
        if item.providers or item.not_configured:
            _badges(item)
        else:
            empty("No provider is linked and no managed-AI usage was metered: reconciliation is not configured.")
    _calendar(found, every, table if every else None)
    if can(user, Action.SEE_PROVIDER_PROJECTS):
        _projects(view)
