"""Shareable links (issue 17): the period and an operator's customer in the query string, read on open and kept
in step; a customer admin's customer parameter ignored; a bad parameter named in one line, then the default."""
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from app_runs import APP
from test_app import ADMIN, AUTH, OPERATOR
from usage_analytics import links, sessions
from usage_analytics.links import Pick
from usage_analytics.periods import Period
from usage_analytics.session_keys import REQUESTED_PAGE, SESSION_TOKEN

TODAY = date(2026, 11, 24)  # the bundled sample's


@pytest.mark.parametrize("params, pick", [
    ({"period": "2026-10"}, Pick("Calendar month", month=Period.parse("2026-10"))),
    ({"period": "previous-month"}, Pick("Previous month")),
    ({"period": "last-30-days"}, Pick("Last 30 days")),
    ({"from": "2026-10-01", "to": "2026-10-15"}, Pick("Custom range", custom=(date(2026, 10, 1), date(2026, 10, 15)))),
    ({"customer": "cus_x"}, None),  # no period named
    ({}, None),
])
def test_what_a_query_string_asks_for(params, pick):
    assert links.period_pick(params) == (pick, None)


@pytest.mark.parametrize("params, why", [
    ({"period": "yesterday"}, "'yesterday' is neither YYYY-MM"),
    ({"period": "2026-13"}, "2026-13"),
    ({"period": "9999-01"}, "outside the supported range"),
    ({"period": "２０２６-10"}, "is neither YYYY-MM"),  # full-width digits
    ({"from": "2026-10-15", "to": "2026-10-01"}, "from=2026-10-15 is after to=2026-10-01"),
    ({"from": "2026-10-01"}, "a range needs both from= and to="),
    ({"period": "2026-10", "from": "2026-10-01", "to": "2026-10-02"}, "not both"),
    ({"from": "soon", "to": "2026-10-02"}, "from='soon' is not a day"),
])
def test_a_period_that_cannot_be_used_is_named_in_one_line(params, why):
    pick, problem = links.period_pick(params)
    assert pick is None and why in problem and "\n" not in problem
    assert problem.endswith("so the current month is shown.")


@pytest.mark.parametrize("pick, params", [
    (Pick("Calendar month", month=Period.parse("2026-10")), {"period": "2026-10"}),
    (Pick("Calendar month"), {"period": "2026-11"}),  # the current month by name: the link means it next month too
    (Pick("Last 7 days"), {"period": "last-7-days"}),
    (Pick("Custom range", custom=(date(2026, 10, 1), date(2026, 10, 15))), {"from": "2026-10-01", "to": "2026-10-15"}),
])
def test_the_query_string_of_a_pick_reads_back_as_the_same_pick(pick, params):
    assert links.period_params(pick, TODAY) == params
    back, _ = links.period_pick(params)
    assert back.choice == pick.choice and back.custom == pick.custom
    assert back.month == (pick.month or (Period.parse("2026-11") if pick.choice == "Calendar month" else None))


def opened(username, page_id, **query):
    """A new browser session of a logged-in user opening /page_id?query (a shared link)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[SESSION_TOKEN] = sessions.issue(AUTH, username, 1).token
    at.session_state[REQUESTED_PAGE] = page_id
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def scope_line(at):
    return next(m.value for m in at.markdown if m.value.startswith(":material/domain:"))


def period_line(at):
    return next(m.value for m in at.markdown if m.value.startswith(":material/calendar_month:"))


def test_an_operator_opens_a_shared_link_to_a_customers_month():
    at = opened(OPERATOR, "reconciliation", period="2026-10", customer="cus_acme_robotics")
    assert not at.exception
    assert "Acme Robotics" in scope_line(at) and "**October 2026**" in period_line(at)
    assert at.sidebar.selectbox(key="scope_widget").value == "cus_acme_robotics"
    assert dict(at.query_params) == {"period": "2026-10", "customer": "cus_acme_robotics"}
    at.sidebar.selectbox(key="scope_widget").select_index(0).run()  # all customers: the link drops the customer
    assert dict(at.query_params) == {"period": "2026-10"}


def test_a_shared_custom_range_and_an_older_month_open_as_named():
    at = opened(OPERATOR, "overview", **{"from": "2026-10-01", "to": "2026-10-15"})
    assert "**15 days** · 2026-10-01 → 2026-10-15 UTC" in period_line(at)
    assert "All customers" in scope_line(at)
    old = opened(OPERATOR, "overview", period="2025-06")  # older than the picker's 13 months: added to it
    assert "**June 2025**" in period_line(old) and not old.exception


def test_a_customer_admins_customer_parameter_is_ignored():
    at = opened(ADMIN, "overview", period="2026-10", customer="cus_northwind_traders")
    assert not at.exception
    assert "Acme Robotics" in scope_line(at) and "Northwind" not in scope_line(at)
    assert "**October 2026**" in period_line(at)
    assert dict(at.query_params) == {"period": "2026-10"}  # their own scope is never in the link


def test_bad_parameters_get_one_line_each_and_the_defaults():
    at = opened(OPERATOR, "overview", period="yesterday", customer="cus_nobody")
    assert not at.exception
    said = [i.value for i in at.info]
    assert any("The link's period cannot be used" in s for s in said)
    assert any("customer cus\\_nobody is not in the exports" in s for s in said)
    assert "**November 2026**" in period_line(at) and "All customers" in scope_line(at)
    assert dict(at.query_params) == {"period": "2026-11"}


def test_a_customer_in_the_link_of_a_platform_page_is_left_out():
    at = opened(OPERATOR, "operators", period="2026-10", customer="cus_acme_robotics")
    assert not at.exception and dict(at.query_params) == {"period": "2026-10"}
