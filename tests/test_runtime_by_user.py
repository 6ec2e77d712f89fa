"""Workspace runtime per user (issue 16): a user's overlapping sessions on one workspace count once, two users
on one workspace each count their own hours; clipping, running sessions and sessions of no length as the
workspace runtime rule has them (given/expect, the hours worked out by hand in the comments)."""
import pandas as pd
import pyarrow as pa
import pytest

from conftest import ROOT, at, session
from test_app import ADMIN, OPERATOR, page
from usage_analytics import config
from usage_analytics.periods import Period

MARCH = Period.parse("2026-03")
LATER = at("2026-06-01 00:00")  # March has ended: nothing is running


def use(user: str, workspace: str, start: str, end: str | None, customer: str = "cus_a") -> dict:
    """A session of this user (conftest's session() is always usr_1's)."""
    return {**session(workspace, start, end, customer=customer), "user_id": user}


def per_user(store, period=MARCH, now=LATER, customer="cus_a"):
    """The users listed, after checking that runtime_active_users counts exactly them, per customer."""
    rows = store.run("runtime_by_user", customer_id=customer, period_start=period.start, period_end=period.end,
                     now=now)
    assert active_users(store, period, now, customer) == rows["customer_id"].value_counts().to_dict()
    return [(r.customer_id, r.user_id, round(r.runtime_hours, 6), r.workspaces, bool(r.is_running))
            for r in rows.itertuples()]


def active_users(store, period=MARCH, now=LATER, customer="cus_a") -> dict[str, int]:
    rows = store.run("runtime_active_users", customer_id=customer, period_start=period.start,
                     period_end=period.end, now=now)
    return dict(zip(rows["customer_id"], rows["active_users"]))


def workspace_hours(store, now=LATER):
    rows = store.run("runtime_by_workspace_day", customer_id="cus_a", period_start=MARCH.start,
                     period_end=MARCH.end, now=now)
    return round(rows["runtime_hours"].sum(), 6)


def test_a_users_overlapping_sessions_on_one_workspace_count_once(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 12:00"),
        use("usr_1", "ws1", "2026-03-10 11:00", "2026-03-10 14:00"),  # overlaps: union 10:00-14:00, 4 h not 5
        use("usr_1", "ws1", "2026-03-10 14:00", "2026-03-10 15:00"),  # touches: 10:00-15:00, 5 h
        use("usr_1", "ws1", "2026-03-10 16:00", "2026-03-10 20:00"),  # a second run: 4 h
        use("usr_1", "ws1", "2026-03-10 17:00", "2026-03-10 18:00"),  # nested in it: nothing more
    ])
    assert per_user(store) == [("cus_a", "usr_1", 9.0, 1, False)]  # 5 + 4


def test_two_users_on_one_workspace_each_count_their_own_hours(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 12:00"),  # 2 h
        use("usr_2", "ws1", "2026-03-10 11:00", "2026-03-10 14:00"),  # 3 h, overlapping usr_1's by 1 h
    ])
    assert per_user(store) == [("cus_a", "usr_2", 3.0, 1, False), ("cus_a", "usr_1", 2.0, 1, False)]
    # the workspace ran 10:00-14:00: 4 h, less than the users' 2 + 3
    assert workspace_hours(store) == 4.0


def test_another_users_session_never_joins_two_runs_of_a_user(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 11:00"),  # 1 h
        use("usr_2", "ws1", "2026-03-10 10:30", "2026-03-10 12:30"),  # 2 h, bridging usr_1's two sessions
        use("usr_1", "ws1", "2026-03-10 12:00", "2026-03-10 13:00"),  # 1 h: usr_1 has 2 h, not 10:00-13:00
    ])
    assert per_user(store) == [("cus_a", "usr_1", 2.0, 1, False), ("cus_a", "usr_2", 2.0, 1, False)]
    assert workspace_hours(store) == 3.0  # the workspace ran 10:00-13:00


def test_sessions_crossing_the_period_start_or_end_are_clipped(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-02-28 22:00", "2026-03-01 03:00"),  # 3 h of it in March
        use("usr_2", "ws2", "2026-03-31 20:00", "2026-04-01 06:00"),  # 4 h of it in March
        use("usr_3", "ws3", "2026-02-20 00:00", "2026-04-10 00:00"),  # all of March: 31 * 24 = 744 h
        use("usr_4", "ws4", "2026-02-27 09:00", "2026-03-01 00:00"),  # ends at the period start: nothing
        use("usr_4", "ws4", "2026-04-01 00:00", "2026-04-02 00:00"),  # starts at the period end: nothing
    ])
    assert per_user(store) == [
        ("cus_a", "usr_3", 744.0, 1, False),
        ("cus_a", "usr_2", 4.0, 1, False),
        ("cus_a", "usr_1", 3.0, 1, False),
    ]
    assert per_user(store, Period.parse("2026-04")) == [
        ("cus_a", "usr_3", 216.0, 1, False),  # April 1-9: 9 * 24 h
        ("cus_a", "usr_4", 24.0, 1, False),  # April 1, whole
        ("cus_a", "usr_2", 6.0, 1, False),  # April 1, 00:00-06:00
    ]


def test_a_running_session_counts_up_to_now_and_marks_its_user_running(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-15 09:00", None),  # to now, 12:30: 3.5 h
        use("usr_1", "ws1", "2026-03-15 08:00", "2026-03-15 10:00"),  # merged with it: 08:00-12:30, 4.5 h
        use("usr_2", "ws1", "2026-03-15 09:00", "2026-03-15 18:00"),  # ends after now: 09:00-12:30, 3.5 h
        use("usr_3", "ws2", "2026-03-15 07:00", "2026-03-15 08:00"),  # ended: 1 h, not running
        use("usr_4", "ws2", "2026-03-15 12:30", None),  # starts at now: nothing yet
    ])
    assert per_user(store, now=at("2026-03-15 12:30")) == [
        ("cus_a", "usr_1", 4.5, 1, True),
        ("cus_a", "usr_2", 3.5, 1, True),
        ("cus_a", "usr_3", 1.0, 1, False),
    ]


def test_a_running_session_never_counts_past_the_period_end(exports):
    store = exports(workspace_sessions=[use("usr_1", "ws1", "2026-03-31 20:00", None)])
    # now is in April: March counts 20:00-24:00, and the session is still running
    assert per_user(store, now=at("2026-04-01 03:00")) == [("cus_a", "usr_1", 4.0, 1, True)]


def test_sessions_of_no_length_count_for_nothing(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 10:00"),  # no length: usr_1 has no runtime
        use("usr_2", "ws1", "2026-03-10 11:00", "2026-03-10 12:00"),  # 1 h
        use("usr_2", "ws2", "2026-03-10 13:00", "2026-03-10 13:00"),  # no length: ws2 is not one of usr_2's
    ])
    assert per_user(store) == [("cus_a", "usr_2", 1.0, 1, False)]


def test_a_user_on_two_workspaces_counts_both_and_two_workspaces(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 12:00"),  # 2 h
        use("usr_1", "ws2", "2026-03-10 11:00", "2026-03-10 13:00"),  # 2 h on another workspace, at the same time
        use("usr_1", "ws2", "2026-03-11 09:00", "2026-03-11 09:30"),  # 0.5 h
    ])
    # merging is per workspace: the 11:00-12:00 overlap of ws1 and ws2 counts on each
    assert per_user(store) == [("cus_a", "usr_1", 4.5, 2, False)]


def test_only_the_customer_asked_for_and_every_customer_for_none(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 11:00"),  # cus_a usr_1: 1 h
        use("usr_2", "ws1", "2026-03-10 10:00", "2026-03-10 13:00"),  # cus_a usr_2: 3 h
        use("usr_1", "ws9", "2026-03-10 10:00", "2026-03-10 15:00", customer="cus_b"),  # cus_b usr_1: 5 h
        use("usr_7", "ws8", "2026-03-12 00:00", "2026-03-12 02:00", customer="cus_b"),  # cus_b usr_7: 2 h
    ])
    assert per_user(store) == [("cus_a", "usr_2", 3.0, 1, False), ("cus_a", "usr_1", 1.0, 1, False)]
    assert per_user(store, customer="cus_b") == [("cus_b", "usr_1", 5.0, 1, False), ("cus_b", "usr_7", 2.0, 1, False)]
    assert per_user(store, customer="cus_nobody") == []
    # every customer: by customer, then hours (largest first); the same user id in two customers is two users
    assert per_user(store, customer=None) == [
        ("cus_a", "usr_2", 3.0, 1, False),
        ("cus_a", "usr_1", 1.0, 1, False),
        ("cus_b", "usr_1", 5.0, 1, False),
        ("cus_b", "usr_7", 2.0, 1, False),
    ]


def test_users_with_equal_hours_are_ordered_by_user_id(exports):
    store = exports(workspace_sessions=[
        use("usr_b", "ws1", "2026-03-10 10:00", "2026-03-10 11:00"),
        use("usr_a", "ws2", "2026-03-10 10:00", "2026-03-10 11:00"),
    ])
    assert [r[1] for r in per_user(store)] == ["usr_a", "usr_b"]


def test_no_session_in_the_period_gives_no_rows(exports):
    store = exports(workspace_sessions=[use("usr_1", "ws1", "2026-02-10 10:00", "2026-02-10 11:00")])
    assert per_user(store) == []
    assert per_user(store, Period.parse("2026-02")) == [("cus_a", "usr_1", 1.0, 1, False)]


# --- the runtime page's "By user" section, on the bundled sample --------------------------------------------

def sample_users(now, period) -> pd.DataFrame:
    """The rule worked out in plain Python over the sample's parquet (not by the query): each session cut to
    [period start, min(period end, now)), a user's runs on one workspace merged by a sweep in start order."""
    sessions = pd.read_parquet(ROOT / "data" / "workspace_sessions",
                               columns=["customer_id", "workspace_id", "user_id", "started_at", "ended_at"])
    window_end = min(period.end, now)
    seconds, workspaces, running = {}, {}, {}
    for (cid, workspace, user), group in sessions.groupby(["customer_id", "workspace_id", "user_id"]):
        cut = []
        for started, ended in zip(group["started_at"], group["ended_at"]):
            start = max(started, period.start)
            end = window_end if pd.isna(ended) else min(ended, window_end)
            if end > start:
                cut.append((start, end, pd.isna(ended) or ended > now))
        total, run_end = 0.0, None
        for start, end, _ in sorted(cut):
            if run_end is not None and start <= run_end:  # overlaps or touches the run so far
                total += max(0.0, (end - run_end).total_seconds())
                run_end = max(run_end, end)
            else:
                total += (end - start).total_seconds()
                run_end = end
        if total > 0:
            seconds[cid, user] = seconds.get((cid, user), 0.0) + total
            workspaces[cid, user] = workspaces.get((cid, user), 0) + 1
            running[cid, user] = running.get((cid, user), False) or any(r for _, _, r in cut)
    names = pd.read_parquet(ROOT / "data" / "customers", columns=["customer_id", "customer_name"])
    frame = pd.DataFrame([(cid, user, s / 3600, workspaces[cid, user], running[cid, user])
                          for (cid, user), s in seconds.items()],
                         columns=["customer_id", "user_id", "runtime_hours", "workspaces", "is_running"])
    frame = frame.merge(names, on="customer_id")
    return frame.sort_values(["runtime_hours", "customer_id", "user_id"], ascending=[False, True, True],
                             ignore_index=True)


def by_user_section(at) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The "By user" table as shown and the rows its chart draws."""
    assert not at.exception, at.exception
    assert "By user" in [h.value for h in at.subheader]
    tables = [d.value for d in at.dataframe if "user_id" in d.value.columns]
    charts = [pa.ipc.open_stream(c.proto.datasets[0].data.data).read_all().to_pandas()
              for c in at.get("vega_lite_chart") if c.proto.datasets]
    drawn = [c for c in charts if "user" in c.columns]
    assert len(tables) == 1 and len(drawn) == 1
    assert any("A user's overlapping sessions on one workspace count once; two users on one workspace each count "
               "their own hours" in c.value for c in at.caption)
    return tables[0], drawn[0]


@pytest.fixture(scope="module")
def expected():
    now = config.load().now()  # the app's now: the sample's own end (its manifest)
    period = Period.month(now.year, now.month)  # the page's default period
    return sample_users(now, period)


def test_the_runtime_page_shows_an_admin_every_user_of_their_customer(expected, sample_store):
    assert sample_store.reports["workspace_sessions"].rejected_rows == 0  # the parquet rows are the store's rows
    table, drawn = by_user_section(page(ADMIN, "runtime"))
    acme = expected[expected["customer_id"] == "cus_acme_robotics"].reset_index(drop=True)
    assert 1 < len(acme) <= 25  # every user is listed and drawn
    assert list(table.columns) == ["user_id", "runtime_hours", "workspaces", "is_running"]  # no customer column
    assert list(table["user_id"]) == list(acme["user_id"])  # largest first
    assert list(table["runtime_hours"]) == pytest.approx(list(acme["runtime_hours"]), abs=0.0051)
    assert list(table["workspaces"]) == list(acme["workspaces"])
    assert list(table["is_running"]) == list(acme["is_running"])
    assert set(drawn["user"]) == set(acme["user_id"])


def test_the_runtime_page_shows_an_operator_the_top_users_of_every_customer_with_their_names(expected):
    table, drawn = by_user_section(page(OPERATOR, "runtime"))
    top = expected.head(25)
    assert len(expected) > 25  # the sample has more users than are listed
    assert list(table.columns) == ["customer", "user_id", "runtime_hours", "workspaces", "is_running"]
    assert list(zip(table["customer"], table["user_id"])) == list(zip(top["customer_name"], top["user_id"]))
    assert list(table["runtime_hours"]) == pytest.approx(list(top["runtime_hours"]), abs=0.0051)
    assert list(table["is_running"]) == list(top["is_running"])
    # the chart draws exactly the rows of the table
    assert sorted(drawn["user"]) == sorted(f"{user} · {name}"
                                           for user, name in zip(top["user_id"], top["customer_name"]))


def test_the_query_agrees_with_the_plain_python_rule_for_every_user_of_the_sample(expected, sample_store):
    now = config.load().now()
    period = Period.month(now.year, now.month)
    found = sample_store.run("runtime_by_user", customer_id=None, period_start=period.start, period_end=period.end,
                             now=now)
    ordered = expected.sort_values(["customer_id", "runtime_hours", "user_id"], ascending=[True, False, True])
    assert list(zip(found["customer_id"], found["user_id"])) == list(zip(ordered["customer_id"], ordered["user_id"]))
    assert list(found["runtime_hours"]) == pytest.approx(list(ordered["runtime_hours"]), abs=1e-6)
    assert list(found["workspaces"]) == list(ordered["workspaces"])
    assert list(found["is_running"]) == list(ordered["is_running"])


def test_active_users_count_each_user_with_runtime_once_per_customer(exports):
    store = exports(workspace_sessions=[
        use("usr_1", "ws1", "2026-03-10 10:00", "2026-03-10 11:00"),  # cus_a usr_1
        use("usr_1", "ws2", "2026-03-12 10:00", "2026-03-12 11:00"),  # the same user on another workspace: once
        use("usr_2", "ws1", "2026-02-27 09:00", "2026-03-01 00:00"),  # ends at the period start: not active
        use("usr_3", "ws1", "2026-03-10 10:00", "2026-03-10 10:00"),  # no length: not active
        use("usr_4", "ws1", "2026-03-31 23:00", None),  # running into April: active in March
        use("usr_5", "ws3", "2026-04-01 00:00", "2026-04-01 01:00"),  # April only
        use("usr_1", "ws9", "2026-03-10 10:00", "2026-03-10 15:00", customer="cus_b"),  # usr_1 of cus_b too
    ])
    assert active_users(store, now=at("2026-04-01 03:00")) == {"cus_a": 2}  # usr_1 and usr_4
    assert active_users(store, now=at("2026-04-01 03:00"), customer=None) == {"cus_a": 2, "cus_b": 1}
    assert active_users(store, now=at("2026-03-10 10:00"), customer=None) == {}  # nothing has any length yet
    assert active_users(store, Period.parse("2026-04"), at("2026-04-01 00:30"), None) == {"cus_a": 2}  # usr_4, usr_5


def test_the_active_users_are_the_users_listed_for_every_customer_of_the_sample(sample_store):
    now = config.load().now()
    for months_back in range(3):
        first = (pd.Timestamp(now.replace(tzinfo=None)).to_period("M") - months_back).start_time
        period = Period.month(first.year, first.month)
        for moment in (now, period.start + pd.Timedelta(days=9, hours=13)):
            listed = sample_store.run("runtime_by_user", customer_id=None, period_start=period.start,
                                      period_end=period.end, now=moment)
            assert active_users(sample_store, period, moment, None) == listed["customer_id"].value_counts().to_dict()
