"""Workspace runtime (/runtime): hours per day or week, by template and by workspace; top workspaces; by user."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import pandas as pd
import streamlit as st

from usage_analytics import charts, coverage, drawing, formatting, summary
from usage_analytics.view import empty
from usage_analytics.areas import Area
from usage_analytics import tables


TOP_WORKSPACES = 25  # rows of the top workspaces table (its chart draws the first 15)


def _top_table(runtime: pd.DataFrame) -> pd.DataFrame:
    """One customer's TOP_WORKSPACES workspaces with the most hours, from its workspaces' days (all customers'
    are summed in a query: _every_top)."""
    table = runtime.groupby(["workspace_id", "template"], as_index=False).agg(
        runtime_hours=("runtime_hours", "sum"), active_days=("day", "nunique"), is_running=("is_running", "any"))
    return table.sort_values("runtime_hours", ascending=False).head(TOP_WORKSPACES).round({"runtime_hours": 2})


TOP_USERS = 25  # users drawn (and, for all customers, listed): one customer's table lists every user


def _user_rows(users: pd.DataFrame, names: dict[str, str], all_customers: bool) -> pd.DataFrame:
    """Users by hours (largest first) with what the chart and table show: `user`, the chart's label (the user
    id, with the customer's name for all customers, where one id can be a user of two customers), and
    `customer`. For all customers only the top TOP_USERS; users of customers not in scope are left out."""
    users = users[users["customer_id"].isin(names.keys())]
    users = users.sort_values(["runtime_hours", "customer_id", "user_id"], ascending=[False, True, True])
    if all_customers:
        users = users.head(TOP_USERS)
    customer = users["customer_id"].map(names)
    return users.assign(customer=customer,
                        user=users["user_id"] + " · " + customer if all_customers else users["user_id"])


def _by_user(view, names: dict[str, str], every: bool) -> None:
    st.subheader("By user", anchor=False)
    users = _user_rows(view.runtime_by_user(), names, every)
    if users.empty:
        view.nothing("There is no runtime per user to show for this period.", coverage.RUNTIME)
        return
    # one colour: a user's hue would mean nothing, and hours_by's hashed hues made unrelated users look alike
    drawing.draw(charts.bars(users.head(TOP_USERS), "user", "runtime_hours", "runtime hours", limit=TOP_USERS),
                 width="stretch")
    table = users[(["customer"] if every else []) + ["user_id", "runtime_hours", "workspaces", "is_running"]]
    tables.show(view, table.round({"runtime_hours": 2}), "runtime-by-user", hide_index=True, width="stretch",
                column_config={
                    "customer": "Customer", "user_id": "User",
                    "runtime_hours": st.column_config.NumberColumn("Runtime hours", format="%.2f"),
                    "workspaces": st.column_config.NumberColumn(
                        "Workspaces", help="Workspaces with runtime of this user in the period."),
                    "is_running": st.column_config.CheckboxColumn("Running now"),
                })
    shown = (f"The {TOP_USERS} users with the most hours across all customers. " if every else
             f"The chart draws the {TOP_USERS} users with the most hours; the table lists all {len(users):,}. "
             if len(users) > TOP_USERS else "")
    st.caption(shown + "A user's overlapping sessions on one workspace count once; two users on one workspace each "
               "count their own hours, so users' hours can add up to more than the workspaces' runtime.")


def _every_series(view, names: dict[str, str]) -> tuple[pd.DataFrame, str | None]:
    """All customers' hours per day and customer for the over-time chart, cut by the query to the largest
    customers and one "other (N)" series (its name returned, or None when every customer is drawn)."""
    rows = view.rows("runtime_customer_series", "Runtime per customer", series=charts.MAX_SERIES)
    customer, other = charts.cut_series(rows["customer_id"], rows["others"], names)
    return pd.DataFrame({"day": rows["day"], "customer": customer, "runtime_hours": rows["runtime_hours"]}), other


def _every_top(view, names: dict[str, str]) -> pd.DataFrame:
    """All customers' TOP_WORKSPACES workspaces with the most hours, as the table lists them."""
    top = view.rows("runtime_top_workspaces", "The top workspaces", top=TOP_WORKSPACES)
    return top.assign(customer=top["customer_id"].map(names))[
        ["customer", "workspace_id", "template", "runtime_hours", "active_days", "is_running"]
    ].round({"runtime_hours": 2})


def render(user, view) -> None:
    found = view.figures(Area.RUNTIME)
    if found is None:
        return
    every = view.customer_id is None
    # One customer's days are fetched with its figures (they are summed from them); for all customers the page
    # draws the day-and-template trend the figures carry and asks for the top workspaces and the largest
    # customers' days (tens of rows) instead of every workspace's days of every customer.
    runtime = summary.trend(found, "runtime") if every else summary.combined(found, "runtime")
    if runtime.empty:
        view.nothing("No workspace ran in this period, so there is no runtime to show. Running workspaces count up "
                 "to now; a period that has not started yet is empty.", coverage.RUNTIME)
        return
    items = list(found.values())
    names = {cid: item.account.customer_name for cid, item in found.items()}
    total, active, templates, live = st.columns(4)
    status = items[0].runtime_status  # (the same for every customer: the exports' state)
    hours = sum(s.runtime_hours for s in items)
    total.metric(f"Runtime · {status}", formatting.figure(formatting.hours(hours), status), border=True,
                 help="Final once the period has ended and the exports cover it; incomplete when a sessions file "
                      "could not be read.")
    active.metric("Active workspaces", f"{sum(s.active_workspaces for s in items):,}", border=True,
                  help="Workspaces with any runtime in the period.")
    templates.metric("Templates", f"{runtime['template'].nunique()}", border=True)
    live.metric("Running now", f"{sum(s.running_workspaces for s in items):,}", border=True,
                help="Sessions without an end yet count up to now.")

    grain = st.segmented_control("Show per", ["day", "week"], default="day", key="runtime_grain") or "day"
    by = "customer" if every and st.toggle("Colour by customer", key="runtime_by_customer") else "template"
    drawn, other = _every_series(view, names) if by == "customer" else (runtime, None)
    rate = summary.daily_rate(items, "runtime_hours")
    drawing.draw(charts.runtime_over_time(drawn, grain, by, view.period, view.now, projection=rate, other=other),
                 width="stretch")
    st.caption((f"Outlined bars: today (UTC), counted only up to {view.now:%H:%M} UTC. "
                if view.period.start <= view.now < view.period.end else "")
               + (f"Grey dashed outlines: the days left, projected at the last 7 whole days' {formatting.hours(rate)} "
                  "a day (an estimate, in no total or export). " if rate is not None and grain == "day" else "")
               + "Weeks are ISO weeks (Monday, "
               f"UTC) cut to the period; a cut week is marked partial. More than {charts.MAX_SERIES} series: the "
               "largest, and the rest as one grey \"other\".")

    top = _every_top(view, names) if every else _top_table(runtime)
    left, right = st.columns(2)
    with left:
        st.subheader("By template", anchor=False)
        drawing.draw(charts.hours_by(runtime, "template"), width="stretch")
    with right:
        st.subheader("Top workspaces", anchor=False)
        drawing.draw(charts.hours_by(top if every else runtime, "workspace_id", color="template",
                                     universe=runtime["template"].unique()), width="stretch")

    st.subheader("Top workspaces table", anchor=False)
    # the workspace and its hours first: on a phone the columns after the first two or three need a sideways scroll
    first = ["workspace_id", "runtime_hours"]
    tables.show(view, top, "top-workspaces", hide_index=True, width="stretch",
                column_order=first + [c for c in top.columns if c not in first], column_config={
        "customer": "Customer", "workspace_id": "Workspace", "template": "Template",
        "runtime_hours": st.column_config.NumberColumn("Runtime hours", format="%.2f"),
        "active_days": st.column_config.NumberColumn("Active days"),
        "is_running": st.column_config.CheckboxColumn("Running now"),
    })
    st.caption("Runtime is the overlap of each session with the period (UTC). Overlapping sessions of one "
               "workspace count once; sessions crossing midnight are split exactly.")

    _by_user(view, names, every)
