"""The app: the page frame (usage_analytics.frame) is the only place pages are registered, after the login
and the access check. Page modules are inert: run on its own, a pages/ file renders nothing."""
import streamlit as st

from usage_analytics import folder_mode

# First, before the imports below: on a freshly started server this run is Streamlit's pages/ folder mode, whose
# list of page files stays on screen until a navigation replaces it.
folder_mode.leave()

from usage_analytics import frame  # noqa: E402

# An emoji icon is drawn in the browser; a :material/…: one is fetched from fonts.gstatic.com on every page load.
st.set_page_config(page_title=frame.APP_TITLE, page_icon="📊", layout="wide")
frame.run()
