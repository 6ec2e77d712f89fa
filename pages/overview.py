"""Overview (/overview): KPI cards with change vs the previous period, and the review checklist."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

import streamlit as st

from decimal import Decimal

from usage_analytics import (access, attention, closing, coverage, formatting, handoff, outlook, periods, quote,
                             rules, summary)
from usage_analytics.view import close_note, empty
from usage_analytics.areas import Area


def _totals(items: list) -> dict:
    return {
        "runtime": sum(s.runtime_hours for s in items),
        "cost": sum((s.ai_cost_usd for s in items), 0),
        "tokens": sum(s.ai_tokens for s in items),
        "workspaces": sum(s.active_workspaces for s in items),
    }


def _status_card(column, title: str, headline: str, text: str) -> None:
    with column.container(border=True):
        st.caption(title)
        st.markdown(f"#### {headline}")
        st.markdown(text)


UNCOMPARABLE = (rules.INCOMPLETE, rules.NO_DATA)  # a figure of these statuses gets no change percentage


def _runtime_status(items: list) -> str:
    statuses = {s.runtime_status for s in items}
    return next((s for s in UNCOMPARABLE if s in statuses), rules.FINAL if statuses == {rules.FINAL} else
                rules.PROVISIONAL)


def _change(current: float, previous: float, statuses: set[str]) -> str | None:
    """The change in percent, unless either side is incomplete, has no data or is only partly inside the exports
    (then no percentage at all)."""
    return None if statuses & {*UNCOMPARABLE, PARTLY} else formatting.delta(current, previous)


PARTLY = "partly inside the exports"  # a side of the change the exports cover only in part: no percentage


def _partly(sides: list) -> str | None:
    """Why a side of the change is only partly inside the exports (its coverage's note; the coverage is the same
    for every customer of a side), or None when both are covered whole: a month whose exports start on its last
    day compared whole would make a +141,928% of the next one."""
    return next((f"{formatting.period_name(side[0].period, side[0].now)}: {side[0].data.note}" for side in sides
                 if side and side[0].data.level != coverage.FULL), None)


def _kpis(view, items, basis, previous, compared: str | None) -> None:
    """The cards: figures as of now; the change compares basis (these figures cut where the comparison is cut)
    with previous."""
    now, here, before = _totals(items), _totals(basis), _totals(previous)
    status, runtime_status = summary.overall_status(items), _runtime_status(items)
    ai_sides = {status, summary.overall_status(previous)} if previous else {status}
    runtime_sides = {runtime_status, _runtime_status(previous)} if previous else {runtime_status}
    partly = _partly([basis, previous]) if previous else None
    if partly:
        ai_sides, runtime_sides = ai_sides | {PARTLY}, runtime_sides | {PARTLY}
    runtime, cost, tokens = st.columns(3)
    runtime.metric(f"Workspace runtime · {runtime_status}", formatting.figure(formatting.hours(now["runtime"]), runtime_status),
                   _change(here["runtime"], before["runtime"], runtime_sides), delta_color="off", border=True,
                   help=f"{formatting.hours(now['runtime'])} across {now['workspaces']} active workspaces")
    cost.metric(f"Managed-AI cost · {status}", formatting.figure(formatting.usd(now["cost"]), status),
                _change(float(here["cost"]), float(before["cost"]), ai_sides), delta_color="off", border=True,
                help=f"Exact: {formatting.usd(now['cost'], 6)}. Linked providers only. Provisional until the period has "
                     "ended and every day is matched; incomplete when an export file could not be read; no data "
                     "outside the exports.")
    tokens.metric(f"Managed-AI tokens · {status}", formatting.figure(formatting.compact(now["tokens"]), status),
                  _change(here["tokens"], before["tokens"], ai_sides), delta_color="off", border=True,
                  help=f"{now['tokens']:,} input + cached input + output tokens.")
    _projections(items, runtime, cost)
    if compared:
        st.caption(f"Change vs {compared}."
                   + (f" No change is shown: a side is only partly inside the exports ({partly})." if partly else
                      " None is shown for a figure that is incomplete or has no data, on either side."
                      if (ai_sides | runtime_sides) & set(UNCOMPARABLE) else ""))
    recon, billing = st.columns(2)
    if items[0].billing is None:
        return  # the billing data cannot be read; said above
    if view.customer_id:
        item = items[0]
        if item.period.has_ended(item.now):  # the card is about the period; today's lag is said apart
            lags = ", ".join(f"{formatting.literal(p.provider)} {formatting.today_badge(p.lag_days)}"
                             for p in item.providers)
            _status_card(recon, "Reconciliation · this period", formatting.period_badge(item.badge, item.ai_status),
                         f"Today: {lags}" if lags else "no linked provider")
        else:
            lags = ", ".join(f"{formatting.literal(p.provider)} {formatting.badge(p.badge)}"
                             for p in item.providers) or "no linked provider"
            _status_card(recon, "Reconciliation", formatting.badge(item.badge), lags)
        allowed = item.billing.creation_allowed
        ahead = outlook.soon(item.balances, item.trial) if allowed else None
        _status_card(billing, f"Billing now · {item.billing.billing_mode}",
                     ":orange-badge[billing state unknown]" if allowed is None else
                     ":orange-badge[creation allowed, not for long]" if ahead else
                     ":green-badge[creation allowed]" if allowed else ":red-badge[creation blocked]",
                     f"Next action: **{ahead[0]}** — by the estimate, {'; '.join(ahead[1])}." if ahead else
                     "Next action: none." if allowed else
                     f"Next action: **{item.billing.next_action}** — {formatting.literal(item.billing.reason, None)}.")
    else:
        counts = {label: sum(s.badge == label for s in items) for label in rules.BADGE_ORDER}
        _status_card(recon, "Reconciliation · customers by worst badge",
                     f"{sum(counts[label] for label in rules.NEEDS_ATTENTION)} need attention",
                     " · ".join(f"{formatting.badge(label)} {count}" for label, count in counts.items()))
        blocked = [s for s in items if s.billing.creation_allowed is False]
        unknown = sum(s.billing.creation_allowed is None for s in items)
        actions = {a: sum(s.billing.next_action == a for s in blocked) for a in ("setup", "funding", "support")}
        _status_card(billing, "Billing now · workspace creation", f"{len(blocked)} of {len(items)} blocked",
                     " · ".join(f"{action}: {count}" for action, count in actions.items())
                     + (f" · billing state unknown: {unknown}" if unknown else ""))


def _projected(items: list, figure: str):
    """The scope's figure projected to the period's end, or None (the period is not open, or a figure cannot be
    projected honestly: see CustomerSummary.can_project)."""
    if not items or not all(s.can_project(figure) for s in items):  # (before working out thousands of them)
        return None
    return sum((s.projected(figure) for s in items), Decimal(0) if figure == "ai_cost_usd" else 0.0)


def _projections(items: list, runtime, cost) -> None:
    """Under the runtime and cost cards: where the open period is heading, labelled as a projection (never in a
    total, a pack or an export)."""
    period = items[0].period
    for column, figure, text in ((runtime, "runtime_hours", formatting.hours), (cost, "ai_cost_usd", formatting.usd)):
        value = _projected(items, figure)
        if value is not None:
            column.caption(f":material/trending_up: Projected **{text(value)}** by {period.last_day:%d %b} at the last "
                           "7 whole days' daily rate (an estimate, in no total or export).")


def _per_unit(view, items: list) -> None:
    """Managed-AI cost per workspace-runtime hour and per active user (users with runtime in the period)."""
    active = view.active_users()
    hours = sum(s.runtime_hours for s in items)
    cost = sum((s.ai_cost_usd for s in items), Decimal(0))
    status = summary.overall_status(items)
    per_hour, per_user, count = st.columns(3)
    per_hour.metric(f"AI cost per runtime hour · {status}", formatting.figure(
        formatting.usd(cost / Decimal(repr(hours))) if hours else "—", status), border=True,
        help="Managed-AI cost (linked providers) ÷ workspace runtime hours in the period.")
    per_user.metric(f"AI cost per active user · {status}", formatting.figure(
        formatting.usd(cost / active) if active else "—", status), border=True,
        help="Managed-AI cost (linked providers) ÷ users with workspace runtime in the period.")
    count.metric("Active users", formatting.figure(f"{active:,}", _runtime_status(items)), border=True,
                 help="Users with any workspace runtime in the period; the Workspace runtime page lists them.")


def _attention(view) -> None:
    """What needs action now or soon (the attention queue): a customer's own reasons, in the admin's words for
    them; for all customers, how many and where the queue is."""
    entries = view.attention()
    if not entries:
        return
    if view.customer_id is None:
        counts = attention.counts(entries)
        st.warning(f"**{len(entries)} customers need attention now or soon:** "
                   + " · ".join(f"{attention.KIND_LABELS[k].lower()} {n}" for k, n in counts.items() if n)
                   + ". The Operators page leads with the queue.", icon=":material/notification_important:")
        view.link("operators", "Open the attention queue")
        return
    (entry,) = entries
    if access.can(view.user, access.Action.SEE_ATTENTION_DETAIL):  # operators read the queue's own words
        lines = "\n".join(f"- **{attention.KIND_LABELS[r.kind]}** — {formatting.literal(r.detail, None)}. Next "
                          f"action: **{r.next_action}**." for r in entry.reasons)
        st.warning("**Needs attention now or soon**\n\n" + lines, icon=":material/notification_important:")
        return
    yours = [r for r in entry.reasons if r.kind in attention.ACTIONABLE]  # what the admin can act on
    theirs = [r for r in entry.reasons if r.kind not in attention.ACTIONABLE]  # what the platform is doing
    if yours:
        st.warning("**Needs your attention**\n\n" + "\n".join(
            f"- **{attention.KIND_LABELS[r.kind]}** — {formatting.literal(r.yours, None)}" for r in yours),
            icon=":material/notification_important:")
    if theirs:
        st.info("**In progress on the platform's side**\n\n" + "\n".join(
            f"- **{attention.KIND_LABELS[r.kind]}** — {formatting.literal(r.yours, None)}" for r in theirs),
            icon=":material/pending:")


def _step(done: bool, title: str, text: str) -> None:
    icon = ":green[:material/check_circle:]" if done else ":orange[:material/error:]"
    st.markdown(f"{icon} **{title}** — {text}")


def _checklist(view, items) -> None:
    st.subheader("Review checklist", anchor=False)
    with st.container(border=True):
        _step(True, "1 · Scope", formatting.literal(view.customer_name)
              + (f" ({formatting.code(view.customer_id)})" if view.customer_id else ""))
        data = view.coverage()
        _step(data.level == "full", "2 · Period", formatting.period_text(view.period, view.now, data.stale_until)
              + ("" if data.level == "full" else f" · coverage {data.level}: {data.note}"))
        running = sum(s.running_workspaces for s in items)
        runtime_status = _runtime_status(items)
        _step(runtime_status not in UNCOMPARABLE, "3 · Workspace runtime",
              f"{formatting.hours(sum(s.runtime_hours for s in items))} across "
              f"{sum(s.active_workspaces for s in items)} workspaces · {runtime_status}"
              + (f" · {running:,} running now" if running else ""))
        view.link("runtime", "Review workspace runtime")
        if items[0].billing is None:
            _step(False, "4–6 · Managed AI, reconciliation, billing", "some exports cannot be read (see above)")
        elif view.customer_id:
            item = items[0]
            can_quote, sentence = quote.final_quote(item)
            _step(item.ai_status not in UNCOMPARABLE, "4 · Managed AI",
                  f"{formatting.usd(item.ai_cost_usd)} · {item.ai_status}")
            view.link("managed-ai", "Review managed AI")
            _step(can_quote, "5 · Reconciliation", formatting.literal(sentence, None))  # (names providers)
            view.link("reconciliation", "Review reconciliation")
            billing = item.billing
            ahead = outlook.soon(item.balances, item.trial) if billing.creation_allowed else None
            verdict = f"workspace creation is allowed, but by the estimate {'; '.join(ahead[1])}" if ahead else \
                "workspace creation is allowed" if billing.creation_allowed else \
                f"the billing state is unknown: {formatting.literal(billing.reason, None)}" \
                if billing.creation_allowed is None else \
                f"workspace creation is blocked: {formatting.literal(billing.reason, None)}"
            _step(billing.creation_allowed and not ahead, "6 · Billing",
                  f"{verdict}. Next action: **{ahead[0] if ahead else billing.next_action}**.")
        else:
            _step(True, "4 · Managed AI", f"{formatting.usd(sum((s.ai_cost_usd for s in items), 0))} across customers")
            view.link("managed-ai", "Review managed AI")
            behind = [formatting.literal(s.account.customer_name, 40) for s in items if rules.needs_attention(s.badge)]
            _step(not behind, "5 · Reconciliation", f"{len(behind)} customers with a mismatch or stale provider"
                  + (f": {', '.join(behind[:5])}{'…' if len(behind) > 5 else ''}" if behind else ""))
            view.link("reconciliation", "Review reconciliation")
            blocked = [s for s in items if s.billing.creation_allowed is False]
            unknown = sum(s.billing.creation_allowed is None for s in items)
            _step(not blocked and not unknown, "6 · Billing", f"{len(blocked)} customers cannot create workspaces"
                  + (f"; {unknown} with a billing state that is unknown" if unknown else ""))
        view.link("billing", "Review billing")


def _closed(view, items) -> None:
    """A closed month says so, and what changed since the close (one customer), or where to see it (all)."""
    latest = view.month_close()
    if latest is None:
        return
    may_close = access.can_view(view.user, "close")
    if view.customer_id is None:
        close_note(latest, None, may_close, "The Month close page lists what changed since, customer by customer.")
    elif items[0].billing is not None:  # (a pack needs the billing figures)
        pack = handoff.pack(items[0])
        block = closing.close_block(latest, pack)
        if block is not None:  # (None: this customer is not in the revision)
            close_note(latest, block, may_close)
            _pack_downloads(view, latest, {**pack, "close": block})


def _pack_downloads(view, latest, pack: dict) -> None:
    """The account's pack of a closed month, as closed and as of now (CSV)."""
    name = f"handoff_{formatting.file_part(view.customer_id)}_{view.period.label}"
    closed, now, _ = st.columns([1, 1, 2])
    closed.download_button("Pack as closed (CSV)", latest.file(closing.pack_file(view.customer_id, "csv")),
                           f"{name}_revision-{latest.revision}.csv", "text/csv", icon=":material/lock_clock:",
                           width="stretch", on_click=view.log_export(f"csv as closed, revision {latest.revision}"))
    now.download_button("Pack as of now (CSV)", handoff.to_csv(pack), f"{name}.csv", "text/csv",
                        icon=":material/download:", width="stretch", on_click=view.log_export("csv"))


def render(user, view) -> None:
    found = view.summaries()
    if found is None:
        return
    items = list(found.values())
    if not items:
        empty("There are no customers in the exports yet.")
        return
    view.unavailable(found, Area.RUNTIME, Area.AI, Area.BILLING)  # say what is missing; show the rest
    _attention(view)
    _closed(view, items)
    compare = periods.comparison(view.period, view.now, view.coverage().stale_until)
    # The sides of the change are only summed (no balance or projection is read from them): no look ahead.
    previous = (view.summaries(compare.previous, compare.cut, ahead=False) or {}) if compare else {}
    # Like for like: when stale exports stop before now, this period's figures are cut there too.
    cut_early = compare is not None and compare.reach < min(view.now, view.period.end)
    basis = (view.summaries(view.period, compare.reach, ahead=False) or {}) if cut_early else found
    _kpis(view, items, list(basis.values()), list(previous.values()), compare.label if compare else None)
    _per_unit(view, items)
    _checklist(view, items)
