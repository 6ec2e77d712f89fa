"""Renders one page for one user through the app's own frame (controls, access check, header).

AppTest cannot switch to pages registered as functions, so tests set these in session state:
harness_user (a User), harness_page (a page id) and, for operators, scope_customer (id or None)."""
import importlib
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from usage_analytics import access, ui  # noqa: E402

user = st.session_state["harness_user"]
spec = access.page(st.session_state["harness_page"])
settings = ui.settings()
known, _ = ui.accounts(settings)
decision = access.check(user, set(known))
if not decision.allowed:
    st.warning(decision.message)
    st.stop()
view = ui.controls(user, decision.scope, spec, known, settings, {})
ui.render(importlib.import_module(f"pages.{spec.module}").render, view)
