"""Properties of workspace runtime on random sessions (hypothesis), against an interval-union oracle."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from usage_analytics.data import Store
from usage_analytics.periods import Period
from usage_analytics.sample import write_dataset

from conftest import customer

BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)
NOW = BASE + timedelta(days=9, hours=13, minutes=7)

session_strategy = st.tuples(
    st.sampled_from(["ws1", "ws2", "ws3"]),
    st.integers(min_value=-3 * 24 * 60, max_value=12 * 24 * 60),  # start, minutes after BASE
    st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 24 * 60)),  # length in minutes; None: running
)


def oracle_hours(sessions, start: datetime, end: datetime) -> dict[str, float]:
    """Per workspace: the length of the union of its sessions clipped to [start, min(end, now))."""
    end = min(end, NOW)
    by_workspace: dict[str, list[tuple[datetime, datetime]]] = {}
    for workspace, offset, length in sessions:
        s = BASE + timedelta(minutes=offset)
        e = NOW if length is None else min(s + timedelta(minutes=length), NOW) if s < NOW else s
        s, e = max(s, start), min(e, end)
        if e > s:
            by_workspace.setdefault(workspace, []).append((s, e))
    result = {}
    for workspace, runs in by_workspace.items():
        runs.sort()
        total, current_start, current_end = 0.0, *runs[0]
        for s, e in runs[1:]:
            if s <= current_end:
                current_end = max(current_end, e)
            else:
                total += (current_end - current_start).total_seconds()
                current_start, current_end = s, e
        total += (current_end - current_start).total_seconds()
        result[workspace] = total / 3600
    return result


def oracle_running(sessions, start: datetime, end: datetime) -> dict[str, bool]:
    """Per workspace with time in the window: whether one of its sessions there is still running at NOW."""
    end = min(end, NOW)
    found: dict[str, bool] = {}
    for workspace, offset, length in sessions:
        s = BASE + timedelta(minutes=offset)
        e = None if length is None else s + timedelta(minutes=length)
        if max(s, start) < min(e or end, end):
            found[workspace] = found.get(workspace, False) or e is None or e > NOW
    return found


def runtime(store, period):
    return store.run("runtime_by_workspace_day", customer_id="cus_a", period_start=period.start,
                     period_end=period.end, now=NOW)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sessions=st.lists(session_strategy, min_size=1, max_size=12),
       first=st.integers(min_value=0, max_value=8), days=st.integers(min_value=1, max_value=6))
@example(sessions=[("ws1", 9 * 24 * 60, 24 * 60), ("ws1", 9 * 24 * 60 - 30, 60), ("ws2", 8 * 24 * 60, None)],
         first=8, days=3)  # ws1: ends after now, so it still runs; ws2: has no end
def test_runtime_properties(tmp_path_factory, sessions, first, days):
    folder = tmp_path_factory.mktemp("sessions")
    rows = [{"customer_id": "cus_a", "workspace_id": w, "user_id": "u", "template": "standard",
             "started_at": BASE + timedelta(minutes=o),
             "ended_at": None if n is None else BASE + timedelta(minutes=o + n)} for w, o, n in sessions]
    write_dataset(folder, "workspace_sessions", rows)
    write_dataset(folder, "customers", [customer()])
    store = Store(folder, NOW)
    try:
        period = Period((BASE + timedelta(days=first)).date(), (BASE + timedelta(days=first + days - 1)).date())
        rows = runtime(store, period)
        # never negative
        assert (rows["runtime_hours"] >= 0).all()
        # per workspace: exactly the union of its sessions in the window, so never more than the wall clock
        expected = oracle_hours(sessions, period.start, period.end)
        per_workspace = rows.groupby("workspace_id")["runtime_hours"].sum().to_dict()
        assert set(per_workspace) == set(expected)
        assert rows.groupby("workspace_id")["is_running"].any().to_dict() == \
            oracle_running(sessions, period.start, period.end)
        window = max((min(period.end, NOW) - period.start).total_seconds() / 3600, 0)
        for workspace, hours in per_workspace.items():
            assert abs(hours - expected[workspace]) < 1e-6
            assert hours <= window + 1e-9
        # the daily rows add up to the period total, and no day holds more than 24 hours per workspace
        assert abs(rows["runtime_hours"].sum() - sum(expected.values())) < 1e-6
        assert (rows.groupby(["workspace_id", "day"])["runtime_hours"].sum() <= 24 + 1e-9).all()
        # splitting the period in two adds up to the whole
        if period.days > 1:
            cut = period.first_day + timedelta(days=period.days // 2)
            left = runtime(store, Period(period.first_day, cut - timedelta(days=1)))
            right = runtime(store, Period(cut, period.last_day))
            assert abs(left["runtime_hours"].sum() + right["runtime_hours"].sum() - rows["runtime_hours"].sum()) < 1e-6
    finally:
        store.close()
