"""Session-state keys shared by several modules: one spelling each."""
REQUESTED_PAGE = "requested_page"  # the page a session's first request asked for (a bookmark), opened after login
SCOPE_CUSTOMER = "scope_customer"  # an operator's chosen customer (None: all), kept while a page has no picker
SESSION_TOKEN = "_auth_token"  # the signed session token of the login made in this browser session
# The Operators page's search, filters and queue reasons, kept while another page is open (frame.run)
OPS_SEARCH, OPS_ACTIONS, OPS_BADGES, OPS_BLOCKED, OPS_QUEUE_KINDS = (
    "ops_search", "ops_actions", "ops_badges", "ops_blocked", "ops_queue_kinds")
KEPT_FILTERS = (OPS_SEARCH, OPS_ACTIONS, OPS_BADGES, OPS_BLOCKED, OPS_QUEUE_KINDS)
