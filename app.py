"""The router, and the only place pages are registered: settings -> login -> access check -> pages."""
import importlib

import streamlit as st

from usage_analytics import access, auth, ui

st.set_page_config(page_title="Usage & Billing Analytics", page_icon=":material/insights:", layout="wide")

ui.start_session()
settings = ui.settings()
user = auth.login(settings)
if user is None:
    st.stop()

known, problem = ui.accounts(settings)
decision = access.check(user, None if known is None else set(known))
if not decision.allowed or known is None:
    st.title("Usage & Billing Analytics", anchor=False)
    if decision.allowed:  # an operator: say what is wrong with the exports
        st.error(f"The customers dataset cannot be read, so no page can be scoped: {problem}")
    else:
        auth.audit_once(settings, "denied", user, detail=decision.message)
        st.warning(decision.message, icon=":material/lock:")
    st.stop()

views = {}


def _page(spec: access.Page) -> st.Page:
    render = importlib.import_module(f"pages.{spec.module}").render

    def run() -> None:
        ui.render(render, views["current"])

    run.__name__ = spec.module  # st.Page names a callable page after its function
    return st.Page(run, title=spec.title, icon=spec.icon, url_path=spec.id, default=spec.id == "overview")


registered = {spec.id: _page(spec) for spec in decision.pages}
current = st.navigation(list(registered.values()))
ui.land_on_requested_page(registered, current, settings, user)
spec = access.page(current.url_path or "overview")
views["current"] = ui.controls(user, decision.scope, spec, known, settings, registered)
current.run()
