"""Access log (/access-log, operators): who logged in, was refused, viewed what and downloaded what."""
import streamlit as st

from usage_analytics import access_log
from usage_analytics.view import empty
from usage_analytics import tables

LIMIT = 5000


def render(user, view) -> None:
    log = access_log.for_user(view.settings, user)
    since, until = view.period.start, view.period.end
    counts = log.counts(since, until)
    cards = st.columns(4)
    for card, (label, events) in zip(cards, [("Entries", access_log.EVENTS), ("Failed logins", ["login_failed"]),
                                             ("Denials and refused sessions", ["denied", "session_refused"]),
                                             ("Downloads", ["export"])]):
        card.metric(label, f"{sum(counts.get(e, 0) for e in events):,}", border=True)

    who, what, text = st.columns([2, 3, 2])
    users = who.multiselect("User", log.usernames(), key="audit_users", placeholder="Every user")
    events = what.multiselect("Event", list(access_log.EVENTS), format_func=access_log.EVENTS.get, key="audit_events",
                              placeholder="Every event")
    contains = text.text_input("Contains", key="audit_text", placeholder="page, customer, client, detail…")
    frame, total = log.entries(since, until, users, events, contains, limit=LIMIT)
    if total == 0:
        empty("No access-log entries match in this period.")
        return
    frame["event"] = frame["event"].map(access_log.EVENTS)
    tables.show(view, frame, "access-log", whose="", hide_index=True, width="stretch", column_config={
        "at": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "event": "Event", "username": "User", "client": "Client address", "page": "Page",
        "customer": "Customer scope", "period": "Period", "detail": "Detail"})
    shown = f"the newest {LIMIT:,} of {total:,}" if total > LIMIT else f"{total:,}"
    st.caption(f"Showing {shown} entries, newest first; times are when it happened (real clock, UTC). "
               f"Entries are never changed and are kept {view.settings.audit_retention_days:g} days "
               "(AUDIT_RETENTION_DAYS). Passwords, cookies, keys and unknown usernames as typed are never written.")


if __name__ == "__main__":  # run on its own (Streamlit's pages/ folder mode): render nothing; the app answers
    from usage_analytics import navigation

    navigation.hand_over(__file__)
