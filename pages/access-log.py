"""Access log (/access-log, operators): who logged in, was refused, viewed what and downloaded what."""
from usage_analytics import folder_mode

folder_mode.hand_over(__name__, __file__)  # run on its own (pages/ folder mode): render nothing; the app answers

from datetime import datetime, timedelta, timezone

import streamlit as st

from usage_analytics import access, access_log, formatting
from usage_analytics.periods import Period
from usage_analytics.view import empty
from usage_analytics import tables

LIMIT = 5000
# The log's windows, by the real clock: its entries say when something happened, whatever 'now' the figures are
# evaluated at (the bundled sample pins theirs to 2026-11-24; ANALYTICS_NOW pins any). Whole UTC days to today.
DAYS = {"Today": 1, "Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
EVERYTHING = "Everything kept"
SIDEBAR = "The sidebar's period"
DEFAULT = "Last 7 days"
TEXT_COLUMNS = ("username", "client", "page", "customer", "period", "detail")  # empty for an event that has none


def window(choice: str, now: datetime, retention_days: float, sidebar: Period) -> Period:
    """The days the page lists: the last N UTC days to today by the real clock (now), every day the log keeps,
    or the sidebar's period as picked."""
    today = now.date()
    if choice == EVERYTHING:
        return Period((now - timedelta(days=retention_days)).date(), today)
    if choice == SIDEBAR:
        return sidebar
    return Period(today - timedelta(days=DAYS[choice] - 1), today)


def render(user, view) -> None:
    log = access_log.for_user(view.settings, user)
    now = datetime.now(timezone.utc)  # the real clock, not view.now: the figures' 'now' may be pinned
    cards = st.columns(4)
    when, who, what, text = st.columns([2, 2, 3, 2])
    sidebar_name = formatting.period_name(view.period, view.now)
    choice = when.selectbox("Window (real clock)", [*DAYS, EVERYTHING, SIDEBAR], index=list(DAYS).index(DEFAULT),
                            key="audit_window",
                            format_func=lambda c: f"Sidebar: {sidebar_name}" if c == SIDEBAR else c,
                            help="Entries carry the real clock (when it happened). The sidebar's period follows "
                                 "the figures' 'now', which may be pinned; pick it here to list its days.")
    period = window(choice, now, view.settings.audit_retention_days, view.period)
    since, until = period.start, period.end
    users = who.multiselect("User", log.usernames(), key="audit_users", placeholder="Every user")
    events = what.multiselect("Event", list(access_log.EVENTS), format_func=access_log.EVENTS.get, key="audit_events",
                              placeholder="Every event")
    contains = text.text_input("Contains", key="audit_text", placeholder="page, customer, client, detail…")
    st.caption(f":material/schedule: {_clock(view, choice, period, now)}")
    titles = {p.id: p.title for p in access.PAGES}  # the page column as the sidebar names pages ("Contains" finds both)
    frame, total = log.entries(since, until, users, events, contains, limit=LIMIT, page_titles=titles)
    counts = log.counts(since, until, users, events, contains, page_titles=titles)  # (the cards: as the table)
    filtered = bool(users or events or contains.strip())
    for card, (label, kinds) in zip(cards, [("Entries", access_log.EVENTS), ("Failed logins", ["login_failed"]),
                                            ("Denials and refused sessions", ["denied", "session_refused"]),
                                            ("Downloads", ["export"])]):
        card.metric(label, f"{sum(counts.get(e, 0) for e in kinds):,}", border=True,
                    help="In the window, matching the filters below." if filtered else "In the window.")
    if total == 0:
        empty("No access-log entries match in this window.")
        return
    frame["event"] = frame["event"].map(access_log.EVENTS)
    # (an id that is no longer a page: as it was written)
    frame["page"] = frame["page"].map(lambda page_id: titles.get(page_id, page_id), na_action="ignore")
    for column in TEXT_COLUMNS:  # an event without a customer, period or page: an empty cell, not "None"
        frame[column] = frame[column].fillna("")
    tables.show(view, frame, "access-log", whose="", when=period.label, hide_index=True, width="stretch",
                column_config={
                    "at": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                    "event": "Event", "username": "User", "client": "Client address", "page": "Page",
                    "customer": "Customer scope", "period": "Period", "detail": "Detail"})
    shown = f"the newest {LIMIT:,} of {total:,} entries" if total > LIMIT else \
        f"{total:,} entr{'ies' if total != 1 else 'y'}"
    st.caption(f"Showing {shown}, newest first; times are when it happened (real clock, UTC). "
               f"Entries are never changed and are kept {view.settings.audit_retention_days:g} days "
               "(AUDIT_RETENTION_DAYS). Passwords, cookies, keys and unknown usernames as typed are never written.")


def _clock(view, choice: str, period: Period, now: datetime) -> str:
    """Which clock the window follows, said on the page: the real one, unless the sidebar's period is picked."""
    span = f"{period.first_day:%Y-%m-%d} → {period.last_day:%Y-%m-%d} UTC"
    pinned_by = "ANALYTICS_NOW" if view.settings.now_source == "ANALYTICS_NOW" else "the sample's 'now'"
    figures = (f"The figures elsewhere are as of {view.now:%Y-%m-%d %H:%M} UTC, pinned by {pinned_by}"
               if view.settings.analytics_now is not None else "The figures elsewhere follow the same clock")
    if choice == SIDEBAR:
        return (f"**Sidebar: {formatting.period_name(view.period, view.now)}** · {span} · the sidebar's period, "
                f"while entries carry the real clock (now {now:%Y-%m-%d %H:%M} UTC). {figures}.")
    return (f"**{choice}** · {span} · by the real clock, to now ({now:%Y-%m-%d %H:%M} UTC): entries say when it "
            f"happened. {figures}; the sidebar's period does not apply here unless picked as the window.")
