"""Navigation and bookmarks: the pages a user may open registered with Streamlit, the page a bookmark asked
for opened after login, and the pages/ folder never served on its own."""
from __future__ import annotations

import importlib
from typing import Callable
from urllib.parse import urlparse

import streamlit as st

from . import access, access_log
from .access import Page, User
from .config import Settings
from .session_keys import REQUESTED_PAGE


def start_session() -> None:
    """From the first run of app.py on, every request runs app.py, never a pages/ file directly; and a
    session's first run notes the page the browser asked for.

    While a pages/ folder exists, Streamlit starts in its folder mode: a deep link runs pages/<name>.py
    directly (inert: it shows nothing), and the first session lists the files as navigation.
    st.navigation ends that mode for the process, but it is only called once someone has logged in.
    So this does the one thing st.navigation does first (streamlit 1.67, commands/navigation.py); the
    browser test of a fresh server's deep links guards it. The first run's page still belongs to the
    folder mode, and a run whose mode differs from the previous run's drops the widgets' values (a login
    form's submit among them), so the first session after a server start reruns its first run once."""
    from streamlit import config as streamlit_config
    from streamlit.runtime.pages_manager import PagesManager

    in_folder_mode = PagesManager.uses_pages_directory is not False
    PagesManager.uses_pages_directory = False
    if REQUESTED_PAGE not in st.session_state:
        st.session_state[REQUESTED_PAGE] = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
        # AppTest puts every run back in folder mode, so there the rerun would cause the very change it avoids
        if in_folder_mode and not streamlit_config.get_option("global.appTest"):
            st.rerun()


def register(pages: tuple[Page, ...], run: Callable[[Page, Callable], None]) -> dict[str, st.Page]:
    """An st.Page per page the user may open, by id; opening one calls run(page, its module's render)."""
    def entry(spec: Page) -> st.Page:
        render = importlib.import_module(f"pages.{spec.module}").render

        def open_page() -> None:
            run(spec, render)

        open_page.__name__ = spec.module  # st.Page names a callable page after its function
        return st.Page(open_page, title=spec.title, icon=spec.icon, url_path=spec.id, default=spec.id == "overview")

    return {spec.id: entry(spec) for spec in pages}


def only(page: Callable[[], None], title: str) -> None:
    """Run `page` as the only page of a hidden navigation, whatever the URL's path (a bookmark keeps its path).
    Every run that shows no app page (the login form, a refusal) goes through here, so the sidebar never keeps
    the links of an earlier run: a user whose role was taken away in auth.yaml loses the links at the next
    click, and a logged-out one sees none. (A run that calls no st.navigation leaves the last one on screen.)"""
    pages = [st.Page(page, title=title, url_path=page_id, default=page_id == access.PAGE_IDS[0])
             for page_id in access.PAGE_IDS]
    st.navigation(pages, position="hidden").run()


def land_on_requested_page(registered: dict[str, st.Page], current: st.Page, settings: Settings, user: User) -> None:
    """Open the remembered page once, if this user may (only their pages are registered)."""
    wanted = st.session_state.get(REQUESTED_PAGE, "")
    st.session_state[REQUESTED_PAGE] = ""  # done for this session
    if wanted in access.PAGE_IDS and wanted not in registered:
        access_log.audit(settings, "denied", user, page=wanted, detail="page not open to this user")
        st.toast(f"You cannot open /{wanted}; here is your overview.", icon=":material/lock:")
    if wanted in registered and registered[wanted].url_path != current.url_path:
        st.switch_page(registered[wanted])
