"""Navigation and bookmarks: the pages a user may open registered with Streamlit, and the page a bookmark asked
for opened after login (the pages/ folder is never served on its own: folder_mode)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable

import streamlit as st

from . import access, access_log, folder_mode
from .access import Page, User
from .config import Settings
from .session_keys import REQUESTED_PAGE


LANDING, ALIASES = folder_mode.LANDING, folder_mode.ALIASES  # (defined where the pages/ folder mode is left)
NOTICE = "navigation_notice"  # a line to show once on the next page (a refused bookmark)


@dataclass
class Registered:
    """The st.Pages of one run: each page the user may open (by id, listed), and hidden ones that answer every
    other path a bookmark may hold: "/" (to the landing page), a page the role lacks (one notice, then the
    landing page), and a page file's name (to its page)."""
    pages: dict[str, st.Page]
    home: st.Page | None = None  # "/": leads to the landing page (land_on_requested_page)
    landing: str = LANDING
    hidden: list[st.Page] = field(default_factory=list)

    def all(self) -> list[st.Page]:
        return [*self.pages.values(), self.home, *self.hidden]

    def spec(self, current: st.Page) -> Page | None:
        """The page spec of the page this run shows, or None when it only leads elsewhere."""
        if current is self.home:
            return access.page(self.landing)
        found = [page_id for page_id, entry in self.pages.items() if entry is current]
        return access.page(found[0]) if found else None


def page_module(spec: Page) -> ModuleType:
    """A page's module, pages/<module>.py (inert: importing it registers and draws nothing)."""
    return importlib.import_module(f"pages.{spec.module}")


def register(pages: tuple[Page, ...], run: Callable[[Page, Callable], None], settings: Settings, user: User
             ) -> Registered:
    """An st.Page per page the user may open, by id (opening one calls run(page, its module's render)), and the
    hidden pages that lead every other known path to one of them."""
    def entry(spec: Page, **where) -> st.Page:
        render = page_module(spec).render

        def open_page() -> None:
            run(spec, render)

        open_page.__name__ = spec.module  # st.Page names a callable page after its function
        return st.Page(open_page, title=spec.title, icon=spec.icon, **{"url_path": spec.id, **where})

    found = Registered({spec.id: entry(spec) for spec in pages})
    landing = found.pages.get(LANDING) or next(iter(found.pages.values()))
    found.landing = next(page_id for page_id, page in found.pages.items() if page is landing)
    found.home = entry(access.page(found.landing), url_path="home", default=True, visibility="hidden")

    def to(target: str) -> Callable[[], None]:
        def lead() -> None:  # (the query string goes along: a shared link's period and customer)
            if target in found.pages:
                st.switch_page(found.pages[target], query_params=st.query_params.to_dict())
            _refused(target, settings, user)
            st.switch_page(landing, query_params=st.query_params.to_dict())
        return lead

    found.hidden += [st.Page(to(spec.id), title=spec.title, url_path=spec.id, visibility="hidden")
                     for spec in access.PAGES if spec.id not in found.pages]
    found.hidden += [st.Page(to(page_id), title=access.page(page_id).title, url_path=alias, visibility="hidden")
                     for alias, page_id in ALIASES.items()]
    return found


def _refused(page_id: str, settings: Settings, user: User) -> None:
    access_log.audit(settings, "denied", user, page=page_id, detail="page not open to this user")
    st.session_state[NOTICE] = f"You cannot open /{page_id}; here is your {access.page(LANDING).title.lower()}."


def notice() -> None:
    """The line a refused bookmark left for this run, once."""
    said = st.session_state.pop(NOTICE, None)
    if said:
        st.toast(said, icon=":material/lock:", duration="long")  # ten seconds: long enough to read beside a page


def only(page: Callable[[], None], title: str) -> None:
    """Run `page` as the only page of a hidden navigation, whatever the URL's path (a bookmark keeps its path).
    Every run that shows no app page (the login form, a refusal, a misconfiguration) goes through here, so the
    sidebar never keeps the links of an earlier run: a user whose role was taken away in auth.yaml loses the
    links at the next click, and a logged-out one sees none. Every path a bookmark may hold is one of its pages,
    so none meets Streamlit's "page not found". (A run that calls no st.navigation leaves the last one on
    screen.)"""
    pages = [st.Page(page, title=title, url_path=path, default=path == "home", visibility="hidden")
             for path in folder_mode.PATHS]
    st.navigation(pages, position="hidden").run()


def land_on_requested_page(registered: Registered, current: st.Page, settings: Settings, user: User) -> None:
    """Open the remembered page once (the bookmark a session started on), if this user may."""
    wanted = st.session_state.get(REQUESTED_PAGE, "")
    st.session_state[REQUESTED_PAGE] = ""  # done for this session
    wanted = ALIASES.get(wanted, wanted)
    if wanted in access.PAGE_IDS and wanted not in registered.pages:
        _refused(wanted, settings, user)
        st.switch_page(registered.pages.get(LANDING) or next(iter(registered.pages.values())),
                       query_params=st.query_params.to_dict())
    if wanted in registered.pages and registered.pages[wanted] is not current:
        st.switch_page(registered.pages[wanted], query_params=st.query_params.to_dict())
    if current is registered.home and registered.landing in registered.pages:
        # "/": the landing page at its own address, so the sidebar marks it as the page open (the query string
        # goes along, and with it a shared link's period and customer: the pickers are set from it)
        st.switch_page(registered.pages[registered.landing], query_params=st.query_params.to_dict())
