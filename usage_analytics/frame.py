"""The page frame: settings -> login -> access check -> navigation -> scope and period -> account -> header -> page.

One entry point, run(), which app.py calls and the page tests run through app.py: no page is reached any
other way, so every page, its denials and its access-log entries are the production ones."""
from __future__ import annotations

import logging
from typing import Callable

import streamlit as st

from . import access, access_log, caches, config, controls, login, navigation
from .access import Decision, User
from .config import ConfigError, Settings
from .session_keys import KEPT_FILTERS
from .state_db import StateUnavailable
from .store import DataError
from .view import View

log = logging.getLogger("usage_analytics")
APP_TITLE = "Usage & Billing Analytics"


def run() -> None:
    """One run of the app for one browser session (after app.py's folder_mode.leave())."""
    settings = _settings()
    user = login.login(settings)
    if user is None:
        st.stop()
    known, problem = caches.accounts(settings)
    decision = access.check(user, None if known is None else set(known))
    if not decision.allowed or known is None:
        login.account(settings)
        _refuse(settings, user, decision, problem)
        st.stop()
    for key in KEPT_FILTERS:  # (Streamlit forgets a widget's value on a run that does not draw it: a value set
        if key in st.session_state:  # by the program is kept, so the filters are as left when the page is back)
            st.session_state[key] = st.session_state[key]
    views: dict[str, View] = {}
    registered = navigation.register(decision.pages, lambda spec, render: guard(render, views["current"]),
                                     settings, user)
    current = st.navigation(registered.all())
    navigation.land_on_requested_page(registered, current, settings, user)
    page = registered.spec(current)
    if page is None:  # "/", a page the role lacks, a page file's name: it leads to a page
        login.account(settings)
        current.run()
        return
    navigation.notice()
    views["current"] = controls.controls(user, decision.scope, page, known, settings, registered.pages)
    # The account block (logged in as, Log out, demo mode) under the pickers, which then sit right under the
    # page links: in sight without scrolling on a laptop's screen. (When no period can be made of the pickers,
    # a custom range not yet whole, they stop the run, and the block is left out until the period is whole.)
    login.account(settings)
    current.run()


def _settings() -> Settings:
    """Settings from the environment, or a clear message and an end to the run."""
    try:
        return config.load()
    except ConfigError as error:
        navigation.only(lambda: st.error(f"The app is misconfigured: {error}"), APP_TITLE)  # no page list
        st.stop()


def _refuse(settings: Settings, user: User, decision: Decision, problem: str) -> None:
    """No page for this user: why, and (for those who may see it) what is wrong with the exports. The only
    page of a hidden navigation, so no link of an earlier run stays (e.g. after a role was taken away)."""
    def refusal() -> None:
        st.title(APP_TITLE, anchor=False)
        if decision.allowed:  # an operator: say what is wrong with the exports
            st.error(f"The customers dataset cannot be read, so no page can be scoped: {problem}")
        else:
            access_log.audit_once(settings, "denied", user, detail=decision.message)
            st.warning(decision.message, icon=":material/lock:")

    navigation.only(refusal, APP_TITLE)


def guard(page_render: Callable[[User, View], None], view: View) -> None:
    """Run one page behind the access check; data problems become messages, never a traceback."""
    if not access.can_view(view.user, view.page.id):
        access_log.audit_once(view.settings, "denied", view.user, page=view.page.id,
                              detail="page not open to this user")
        st.error("You cannot open this page.")
        return
    access_log.audit_once(view.settings, "page_view", view.user, page=view.page.id,
                          customer=view.customer_id or "all", period=view.period.label)
    controls.header(view)
    try:
        page_render(view.user, view)
    except DataError as error:
        st.error(f"Part of this page cannot be shown: {error}", icon=":material/error:")
    except StateUnavailable as error:  # the access log or the month closes, in STATE_DIR
        log.error("page %s: %s", view.page.id, error)
        why = error if access.can(view.user, access.Action.SEE_DATA_INTERNALS) else \
            "the app's own records cannot be read or written right now"
        st.error(f"Part of this page cannot be shown: {why}.", icon=":material/error:")
    except Exception:  # the user gets a sentence; the server log gets the details
        log.exception("page %s failed", view.page.id)
        st.error("Something went wrong while drawing this page. The error was logged for the operators.")
