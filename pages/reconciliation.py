"""Reconciliation (/reconciliation): lag badge per provider, a calendar heat map, and can we quote final."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import pandas as pd
import streamlit as st

from usage_analytics import charts, coverage, drawing, formatting, quote, rules, summary
from usage_analytics.view import MONEY_HELP, empty
from usage_analytics.access import Action, can
from usage_analytics.areas import Area
from usage_analytics import tables


def _badges(item) -> None:
    """Per provider: its badge, a lag line that explains itself, and the total's status. For an ended period the
    badge and status are the period's; today's lag is shown apart, as "today: …"."""
    ended, today = item.period.has_ended(item.now), item.now.date()

    def inside(p) -> str:
        """What is open inside the period, for a provider (said first: the badge and status are about it)."""
        if p.status in (rules.NO_DATA, rules.INCOMPLETE):
            return f"In this period: {p.status}. "
        if p.period_open_day and (ended or p.period_open_day != p.first_open_day):  # (else the lag line names it)
            return f"In this period: {rules.open_day_text(p.period_open_status, p.period_open_day, today)}. "
        return "In this period: every day with usage is matched. " if ended else ""

    for p in item.providers:
        with st.container(border=True):
            name, badge, lag, status = st.columns([1.2, 1, 3.4, 1.2])
            name.markdown(f"**{formatting.literal(p.provider)}**")
            explained = formatting.lag_explained(p.provider, p.reconciled_through, p.lag_days, p.first_open_day,
                                                 p.first_open_status, item.period, today)
            if ended:
                badge.markdown(formatting.period_badge(p.badge, p.status))
                lag.markdown(f"{inside(p)}Today: {formatting.today_badge(p.lag_days)} {explained}")
            else:
                badge.markdown(formatting.badge(p.badge))
                lag.markdown(f"{inside(p)}{explained}")
            status.markdown(f"total: **{p.status}**")
    for provider in item.not_configured:
        with st.container(border=True):
            name, badge, text = st.columns([1.2, 1, 4.2])
            name.markdown(f"**{formatting.literal(provider)}**")
            badge.markdown(formatting.badge(rules.NOT_CONFIGURED))
            text.markdown("usage exists but reconciliation is not configured, so it is not attributed")


def _float(amount, days: int) -> float | None:
    """An amount over the days with a provider figure: over no day it is $0.00, a sum of nothing (not a grey
    "None" cell); None or NaN over some days stays no figure."""
    if amount is None or amount != amount:
        return 0.0 if days == 0 else None
    return float(amount)


def _exactly(p, metered) -> str:
    """A provider's exact amounts where the table's cents mislead, else "": a mismatch under a cent (a mismatch
    badge beside "$0.00" would say nothing is in dispute), or columns that, each rounded to the cent, do not add up
    as shown (October's $9.63 minus $9.62 beside a $0.02 mismatch: 9.634143 - 9.618905 = 0.015238)."""
    name = formatting.literal(p.provider)
    if p.mismatch_usd and formatting.rounded(p.mismatch_usd) == 0:
        return f"{name}'s mismatch is {formatting.usd_text(p.mismatch_usd, 6)}: under a cent, so the table shows $0.00."
    if metered is None or metered != metered or p.provider_cost_usd is None:
        return ""
    if formatting.rounded(p.provider_cost_usd) - formatting.rounded(metered) == formatting.rounded(p.mismatch_usd):
        return ""
    return (f"{name}'s amounts are rounded to the cent one by one: exactly {formatting.usd_text(metered, 6)} metered "
            f"and {formatting.usd_text(p.provider_cost_usd, 6)} from the provider on those days, and a mismatch of "
            f"{formatting.usd_text(p.mismatch_usd, 6)}.")


def _amounts(view, item) -> None:
    """Per provider: metered cost, the provider's own cost and the mismatch in dollars; per day for operators."""
    if not item.providers or item.ai_status == rules.NO_DATA:
        return
    st.subheader("Metered and provider cost", anchor=False)
    compared = item.frames.part("reconciliation_summary", item.account.customer_id)
    compared = dict(zip(compared["provider"], zip(compared["compared_metered_usd"], compared["provider_cost_days"])))
    rows = []
    for p in item.providers:
        metered, days = compared.get(p.provider, (None, 0))
        days = int(days)
        rows.append({"provider": p.provider, "metered_cost_usd": float(p.cost_usd), "days": days,
                     "compared_metered_usd": _float(metered, days),
                     "provider_cost_usd": _float(p.provider_cost_usd, days), "mismatch_usd": float(p.mismatch_usd)})
    table = pd.DataFrame(rows)
    money = lambda title: st.column_config.NumberColumn(title, format="dollar", help=MONEY_HELP)  # noqa: E731
    tables.show(view, table, "reconciliation amounts", hide_index=True, width="stretch", column_config={
        "provider": "Provider", "metered_cost_usd": money("Metered, whole period"),
        "days": st.column_config.NumberColumn("Days with a provider figure"),
        "compared_metered_usd": money("Metered, those days"), "provider_cost_usd": money("Provider, those days"),
        "mismatch_usd": money("Mismatch (USD)")})
    exactly = [text for p in item.providers if (text := _exactly(p, compared.get(p.provider, (None, 0))[0]))]
    if exactly:
        st.caption(" ".join(exactly))
    st.caption("Metered, whole period: our cost of the period's usage (the Managed AI figure). Those days: the "
               "days the provider has sent its own figure for, with the metered cost it was compared with and the "
               "provider's cost. Mismatch: provider minus metered cost over the days whose figures disagree "
               "(positive: the provider bills more) — the amount in dispute.")
    if can(view.user, Action.SEE_DAILY_RECONCILIATION):
        days = item.reconciliation_days
        with st.expander(f"Per day (operators) · {len(days)} provider-days with a reconciliation row"):
            tables.show(view, days.assign(**{c: days[c].astype(float) for c in
                                             ("metered_cost_usd", "provider_cost_usd", "difference_usd")}),
                        "reconciliation per day", hide_index=True, width="stretch", column_config={
                            "provider": "Provider", "day": "Day (UTC)", "status": "Status",
                            "metered_cost_usd": money("Metered (USD)"), "provider_cost_usd": money("Provider (USD)"),
                            "difference_usd": money("Difference (USD)")})
            small = sum(1 for status, difference in zip(days["status"], days["difference_usd"])
                        if status == rules.MISMATCH and difference is not None and difference == difference
                        and formatting.rounded(difference) == 0)  # (None or NaN: no provider figure)
            if small:
                st.caption(f"{small:,} mismatched provider-day{'s differ' if small != 1 else ' differs'} by under "
                           "half a cent, so the table shows $0.00 there; Download CSV has every amount exactly. A day "
                           "with no provider amount: the provider has sent no figure for it yet.")


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


def _pair_days(view, found: dict, customers: tuple[str, ...]) -> pd.DataFrame:
    """The days with usage of these customers' linked providers (the pairs the calendar draws, not every
    customer's days), with a customer (name) column."""
    if not customers:
        return pd.DataFrame()
    rows = view.rows("ai_pair_days", "The reconciliation calendar", customer_ids=customers)
    names = {cid: found[cid].account.customer_name for cid in customers}
    return rows.assign(customer=rows["customer_id"].map(names)).drop(columns="customer_id")


def _calendar(found: dict, every: bool, pairs: pd.DataFrame | None, view) -> None:
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
        daily = _pair_days(view, found, tuple(sorted(set(drawn["customer_id"]))))
    else:
        daily = summary.combined(found, "ai_daily")
    if daily.empty:
        view.nothing("None of the customer–provider pairs in the table has usage in this period." if order is not None
                 else "No day in this period has managed-AI usage from a linked provider, so there is nothing to "
                 "reconcile yet.", coverage.MANAGED_AI)
        return
    daily["row"] = (daily["customer"] + " · " + daily["provider"]) if every else daily["provider"]
    if order is not None:
        daily = daily[daily["row"].isin(order)]
    drawing.draw(charts.reconciliation_calendar(charts.calendar_days(daily, "row", view.now), "row", order,
                                                view.period, view.now), width="stretch")
    st.caption(shown + "One cell per UTC day with usage. ✓ Matched: the provider's figure agrees with ours. "
               "… Pending: not matched yet. ? Missing: usage with no reconciliation row. ✕ Mismatch: the figures "
               "disagree. ◷ Not yet due: today and yesterday (UTC) are not expected to be reconciled yet, so they "
               "are not shown as pending or missing here; the lag above keeps its own rule.")


def _projects(view) -> None:
    links = view.provider_projects()
    with st.expander(f"Provider projects (operators only) · {len(links)} links"):
        tables.show(view, links, "provider-projects", when=f"{view.now:%Y-%m-%d}", hide_index=True, width="stretch",
                    column_config={"customer_id": "Customer id", "provider": "Provider",
                                   "provider_project_id": "Provider project id",
                                   "linked_at": st.column_config.DatetimeColumn("Linked (UTC)",
                                                                                format="YYYY-MM-DD HH:mm")})


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
            col.metric(f"{label} · links", int(counts.get(label, 0)), border=True,
                       help="Customer–provider links with this badge (the Overview counts customers by their worst "
                            "badge instead).")
        shown = st.multiselect("Show badges", rules.BADGE_ORDER, default=list(rules.NEEDS_ATTENTION), key="recon_badges")
        table = table[table["badge"].isin(shown)]
        tables.show(view, table, "reconciliation", hide_index=True,
                    width="stretch", column_config={
                         "customer": "Customer", "customer_id": "Customer id", "provider": "Provider",
                         "badge": "Badge", "reconciled_through": "Reconciled through",
                         "lag_days": st.column_config.NumberColumn("Lag (days)"), "total": "Total"})
    else:
        item = found[view.customer_id]
        can_quote, sentence = quote.final_quote(item)
        (st.success if can_quote else st.warning)(formatting.literal(sentence, None), icon=":material/gavel:")
        if item.providers or item.not_configured:
            _badges(item)
            _amounts(view, item)
        else:
            empty("No provider is linked and no managed-AI usage was metered: reconciliation is not configured.")
    _calendar(found, every, table if every else None, view)
    if can(user, Action.SEE_PROVIDER_PROJECTS):
        _projects(view)
