"""Managed AI (/managed-ai): cost, tokens and requests per day by provider and model; reconciled share."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

from decimal import Decimal

import pandas as pd
import streamlit as st

from usage_analytics import charts, closing, coverage, drawing, focus, formatting, rules, summary
from usage_analytics.view import MONEY_COLUMN, empty
from usage_analytics.areas import Area
from usage_analytics.contract import TOKEN_COUNTS, USAGE_COUNTS
from usage_analytics import tables

METRICS = {"cost_usd": "Cost (USD)", "input_tokens": "Input tokens", "cached_input_tokens": "Cached input tokens",
           "output_tokens": "Output tokens", "requests": "Requests"}


def _provider_table(found: dict) -> pd.DataFrame:
    rows = [{"customer": s.account.customer_name, "provider": p.provider, "cost_usd": float(p.cost_usd),
             "status": p.status, **{name: getattr(p, name) for name in USAGE_COUNTS}, "badge": p.badge}
            for s in found.values() for p in s.providers]
    return pd.DataFrame(rows)


def _not_configured(found: dict, every: bool) -> None:
    missing = [(s.account.customer_name, provider) for s in found.values() for provider in s.not_configured]
    if not missing:
        return
    if every:
        names = ", ".join(f"{formatting.literal(name, 40)} ({formatting.literal(provider, 40)})"
                          for name, provider in missing[:8])
        st.warning(f"Reconciliation is not configured for {len(missing)} customer–provider pairs with usage, so "
                   f"that usage is not attributed and not counted here: {names}{'…' if len(missing) > 8 else ''}.",
                   icon=":material/link_off:")
    else:
        providers = ", ".join(formatting.literal(provider) for _, provider in missing)
        st.warning(f"Reconciliation is not configured for **{providers}**: there is usage, but it is not "
                   "attributed to this account until the provider is linked, so it is not shown as zero or "
                   "counted here. Ask a platform operator to link it.", icon=":material/link_off:")


def _every_series(view, found: dict, metric: str) -> tuple[pd.DataFrame, str | None]:
    """All customers' usage per day, customer and whether the day is matched, for the over-time chart split by
    customer: cut by the query to the customers with the most of the measure and one "other (N)" series (its
    name returned, or None when every customer is drawn)."""
    rows = view.rows("ai_customer_series", "Managed-AI usage per customer", metric=metric, series=charts.MAX_SERIES)
    customer, other = charts.cut_series(rows["customer_id"], rows["others"],
                                        {cid: item.account.customer_name for cid, item in found.items()})
    return rows.drop(columns=["customer_id", "reconciled", "others"]).assign(
        customer=customer, reconciliation_status=rows["reconciled"].map({True: "matched", False: "not matched"})), other


def render(user, view) -> None:
    found = view.figures(Area.AI)
    if found is None:
        return
    every = view.customer_id is None
    _not_configured(found, every)
    # One customer's days are fetched with its figures; for all customers the page draws the trend the figures
    # carry (per day, provider, model and status, summed in SQL), and the largest customers' days when split by
    # customer, instead of every customer's days.
    daily = summary.trend(found, "ai_daily") if every else summary.combined(found, "ai_daily")
    if daily.empty:
        linked = any(s.providers for s in found.values())
        view.nothing("No managed-AI usage from a linked provider in this period." if linked else
                 "No provider is linked for reconciliation, so no managed-AI usage is attributed to this scope.",
                     coverage.MANAGED_AI)
        return
    cost = sum((s.ai_cost_usd for s in found.values()), Decimal(0))
    matched = sum(daily.loc[daily["reconciliation_status"] == "matched", "cost_usd"], Decimal(0))
    status = summary.overall_status(list(found.values()))
    total, share, tokens, requests = st.columns(4)
    total.metric(f"Cost · {status}", formatting.figure(formatting.usd_card(cost), status), border=True,
                 help=f"Exact: {formatting.usd(cost, 6)}")
    share.metric("Reconciled share", f"{float(matched / cost) if cost else 0:.1%}", border=True,
                 help=f"{formatting.usd(matched, 6)} of the cost is on days matched with the provider.")
    token_count = int(daily[list(TOKEN_COUNTS)].sum().sum())
    tokens.metric(f"Tokens · {status}", formatting.figure(formatting.compact(token_count), status), border=True,
                  help=f"{token_count:,} input + cached + output")
    request_count = int(daily["requests"].sum())
    requests.metric(f"Requests · {status}", formatting.figure(formatting.compact(request_count), status), border=True,
                    help=f"{request_count:,} requests")

    pick, split, grain = st.columns([2, 2, 1])
    metric = pick.selectbox("Measure", list(METRICS), format_func=METRICS.get, key="ai_metric")
    choices = ["provider", "model"] + (["customer"] if every else [])
    by = split.segmented_control("Split by", choices, default="provider", key="ai_split") or "provider"
    per = grain.segmented_control("Per", ["day", "week"], default="day", key="ai_grain") or "day"
    rate = summary.daily_rate(list(found.values()), "ai_cost_usd")
    drawn, other = _every_series(view, found, metric) if by == "customer" else (daily, None)
    drawing.draw(charts.ai_over_time(drawn, metric, by, per, view.period, view.now, projection=rate, other=other),
                 width="stretch")
    st.caption("Solid bars: days matched with the provider. Light, dashed bars: not yet reconciled "
               "(pending, mismatch or no reconciliation row) — those amounts may still change. "
               + (f"Outlined bars: today (UTC), counted only up to {view.now:%H:%M} UTC. "
                  if view.period.start <= view.now < view.period.end else "")
               + (f"Grey dashed outlines: the days left, projected at the last 7 whole days' {formatting.usd(rate)} a "
                  "day (an estimate, in no total or export). " if rate is not None and per == "day"
                  and metric == "cost_usd" else "")
               + "Weeks are ISO weeks (Monday, UTC) cut to "
               f"the period; a cut week is marked partial. More than {charts.MAX_SERIES} series: the largest, "
               "and the rest as one grey \"other\".")

    st.subheader("By provider", anchor=False)
    table = _provider_table(found)
    if not every:
        table = table.drop(columns="customer")
    counts = {"requests": st.column_config.NumberColumn("Requests", format="localized"),
              "input_tokens": st.column_config.NumberColumn("Input tokens", format="localized"),
              "cached_input_tokens": st.column_config.NumberColumn("Cached input", format="localized"),
              "output_tokens": st.column_config.NumberColumn("Output tokens", format="localized")}
    tables.show(view, table, "managed-ai_by-provider", hide_index=True, width="stretch", column_config={
        "customer": "Customer", "provider": "Provider", "cost_usd": MONEY_COLUMN, "status": "Final / provisional",
        **counts, "badge": "Reconciliation"})
    by_model = daily.groupby(["provider", "model"], as_index=False).agg(
        cost_usd=("cost_usd", lambda v: float(rules.usd(sum(v, Decimal(0))))),
        **{name: (name, "sum") for name in USAGE_COUNTS})
    with st.expander("By model"):
        tables.show(view, by_model.sort_values("cost_usd", ascending=False), "managed-ai_by-model", hide_index=True,
                    width="stretch", column_config={"provider": "Provider", "model": "Model", "cost_usd": MONEY_COLUMN,
                                                    **counts})
    _focus_download(view, found)


def _focus_download(view, found: dict) -> None:
    """The month's managed-AI charges as FOCUS 1.2, for cost tools: as closed (with corrections) or as of now."""
    period = view.period
    if not period.is_month:
        return
    latest = view.month_close()
    unread = "" if latest else view.coverage().unread_text(coverage.FOCUS)  # (a closed month's file is recorded)
    if unread:
        st.error(f"The FOCUS file as of now is **incomplete**: export files could not be read ({unread}). Its name "
                 "says so; hand it to no cost tool.", icon=":material/broken_image:")
    st.download_button(
        "Download FOCUS 1.2 CSV" + (" (incomplete)" if unread else ""),
        lambda: closing.focus_file(latest, lambda: focus.charges(found), period, view.settings.platform_name,
                                   view.customer_id),
        f"focus_{formatting.file_part(view.customer_id or 'all-customers')}_{period.label}"
        + ("_INCOMPLETE" if unread else "") + ".csv", "text/csv", icon=":material/download:",
        on_click=view.log_export("focus csv" + (" (incomplete)" if unread else "")))
    st.caption("FOCUS 1.2 (FinOps Open Cost and Usage Specification): one row per customer, provider, model and "
               "UTC day of linked providers, for cost tools. "
               + (f"As closed in revision {latest.revision}, with the Correction rows of later revisions. "
                  if latest else "As of now: the month was never closed. ")
               + "Workspace runtime has no price in the exports, so it is not in this file.")
