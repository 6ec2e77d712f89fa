"""Streamlit's pages/ folder mode, left before anything slow runs. Imports only what is light (Streamlit, the page
ids): app.py and every page file call it first thing, before their own imports.

While a pages/ folder exists, a freshly started server begins in Streamlit's folder mode (streamlit 1.67,
scriptrunner/script_runner.py, _mpa_v1): the first session's first run lists the page files as the sidebar's
navigation, and a deep link runs pages/<name>.py directly. st.navigation ends that mode for the process, but the
app calls it only once someone has logged in or the login form is drawn, after importing pandas, DuckDB and the
rest: on a fresh server the list of page files stayed on screen for 0.3-1.9 s. So the sidebar's navigation starts
hidden (.streamlit/config.toml) and the first run replaces folder mode's list with a hidden navigation at once (the
paths navigation.only() answers), shows the navigation again for what follows, notes the page the browser asked
for, and runs again; the next run is app.py's, which draws the login form.

A run whose mode differs from the previous run's drops the widgets' values (a login form's submit among them),
so the first session after a server start reruns its first run once, in every case. AppTest puts every run back
in folder mode, so there nothing is drawn and no run is repeated (the rerun would cause the very change it
avoids); only the page a page file stands for is noted."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import streamlit as st

from . import access
from .session_keys import REQUESTED_PAGE

LANDING = access.PAGE_IDS[0]  # where "/" and a refused page lead
# Paths of folder mode that are no page: its first run is "app" (app.py) on a freshly started server. (Page files
# are named as their pages' paths, so every other path of that mode is a page's.)
ALIASES = {"app": LANDING}
PATHS = ("home", *access.PAGE_IDS, *ALIASES)  # every path a bookmark may hold
_HANDED_OVER = "navigation_handed_over"


def leave() -> None:
    """app.py's first call: in folder mode (the first run on a fresh server), hide the list of page files at once,
    note the page the browser asked for (its URL's last part) and run again. A session's first run notes that
    page in any mode; after it, nothing."""
    in_folder_mode = _end()
    if REQUESTED_PAGE not in st.session_state:
        st.session_state[REQUESTED_PAGE] = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
        if in_folder_mode and not _in_app_test():
            st.rerun()


def hand_over(name: str, file: str) -> None:
    """A page file's first call (name: its __name__): nothing when the app imports it. Run on its own (folder
    mode serves pages/<name>.py at /<name> before app.py has ever run), render nothing: hide the list of page files
    at once, end folder mode, note the page as the one asked for, and run again, so that app.py (the login, the
    access check, then this page) answers the same URL, with no "page not found" on the way."""
    if name != "__main__":
        return
    _end()
    if st.session_state.get(_HANDED_OVER):  # (the file is the main script itself, as in a test: nothing more)
        return
    st.session_state[_HANDED_OVER] = True
    page = Path(file).stem
    st.session_state.setdefault(REQUESTED_PAGE, ALIASES.get(page, page))
    st.rerun()


def _end() -> bool:
    """Folder mode ended for the process: its list of page files hidden at once (in a browser's run; AppTest draws
    none), and the app's navigation shown from the next run on. Whether this run was in folder mode."""
    from streamlit.runtime.pages_manager import PagesManager

    in_folder_mode = PagesManager.uses_pages_directory is not False
    if in_folder_mode and not _in_app_test():
        _hide_the_page_files()
    PagesManager.uses_pages_directory = False
    _show_the_navigation()
    return in_folder_mode


def _hide_the_page_files() -> None:
    """A hidden navigation in place of the folder's list: one page per path a bookmark may hold, none drawn."""
    st.navigation([st.Page(_nothing, title="Usage & Billing Analytics", url_path=path, default=path == "home",
                           visibility="hidden") for path in PATHS], position="hidden")


def _show_the_navigation() -> None:
    """The app's own navigation shown from the next run on: .streamlit/config.toml hides the sidebar's navigation
    (client.showSidebarNavigation = false), so that a fresh server's first run never shows folder mode's list of
    page files, not even for the moment before its code replaces it (a browser saw it under load). The option is
    the process's, and each run's first message carries it: set once, every session after it shows the app's."""
    from streamlit import config as streamlit_config

    if streamlit_config.get_option("client.showSidebarNavigation") is False:
        st.set_option("client.showSidebarNavigation", True)


def _nothing() -> None:
    """(never run: the run that makes these pages runs again before any page)"""


def _in_app_test() -> bool:
    from streamlit import config as streamlit_config

    return bool(streamlit_config.get_option("global.appTest"))
