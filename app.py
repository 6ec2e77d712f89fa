"""The app: the page frame (usage_analytics.frame) is the only place pages are registered, after the login
and the access check. Page modules are inert: run on its own, a pages/ file renders nothing."""
import streamlit as st

from usage_analytics import frame

st.set_page_config(page_title=frame.APP_TITLE, page_icon=":material/insights:", layout="wide")
frame.run()
