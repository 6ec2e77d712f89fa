"""Properties of workspace runtime on random sessions (hypothesis), against an interval-union oracle."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from usage_analytics.build import build
from usage_analytics.periods import Period
from usage_analytics.sample import write_dataset

from conftest import customer

BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)
NOW = BASE + timedelta(days=9, hours=13, minutes=7)

session_strategy = st.tuples(
    st.sampled_from(["ws1", "ws2", "ws3"]),
    st.integers(min_value=-3 * 24 * 60, max_value=12 * 24 * 60),  # start, minutes after BASE
    st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 24 * 60)),  # length in minutes; None: running
    st.sampled_from(["standard", "gpu", "large"]),
)


def _clipped(sessions, start: datetime, end: datetime):
    """Per workspace: (clipped start, clipped end, started_at, template) of each session with time in the window
    [start, min(end, now)); a running session, or one ending after now, reaches the window end."""
    end = min(end, NOW)
    by_workspace: dict[str, list[tuple[datetime, datetime, datetime, str]]] = {}
    for workspace, offset, length, template in sessions:
        s = BASE + timedelta(minutes=offset)
        e = NOW if length is None else min(s + timedelta(minutes=length), NOW) if s < NOW else s
        if min(e, end) > max(s, start):
            by_workspace.setdefault(workspace, []).append((max(s, start), min(e, end), s, template))
    return by_workspace


def oracle_runs(sessions, start: datetime, end: datetime) -> list[tuple[str, str, float]]:
    """(workspace, template, hours) per merged run in the window: the union of touching or overlapping
    clipped sessions, under the template of its earliest one (then the one that started first, then by name)."""
    found = []
    for workspace, pieces in _clipped(sessions, start, end).items():
        pieces.sort()
        run = [pieces[0]]
        for piece in pieces[1:] + [None]:
            if piece is not None and piece[0] <= max(p[1] for p in run):
                run.append(piece)
                continue
            first = min(run, key=lambda p: (p[0], p[2], p[3]))
            found.append((workspace, first[3], (max(p[1] for p in run) - run[0][0]).total_seconds() / 3600))
            run = [piece]
    return found


def oracle_hours(sessions, start: datetime, end: datetime) -> dict[str, float]:
    """Per workspace: the length of the union of its sessions clipped to [start, min(end, now))."""
    result: dict[str, float] = {}
    for workspace, _, hours in oracle_runs(sessions, start, end):
        result[workspace] = result.get(workspace, 0.0) + hours
    return result


def oracle_templates(sessions, start: datetime, end: datetime) -> dict[tuple[str, str], float]:
    result: dict[tuple[str, str], float] = {}
    for workspace, template, hours in oracle_runs(sessions, start, end):
        result[workspace, template] = result.get((workspace, template), 0.0) + hours
    return result


def oracle_running(sessions, start: datetime, end: datetime) -> dict[str, bool]:
    """Per workspace with time in the window: whether one of its sessions there is still running at NOW."""
    end = min(end, NOW)
    found: dict[str, bool] = {}
    for workspace, offset, length, _ in sessions:
        s = BASE + timedelta(minutes=offset)
        e = None if length is None else s + timedelta(minutes=length)
        if max(s, start) < min(e or end, end):
            found[workspace] = found.get(workspace, False) or e is None or e > NOW
    return found


def runtime(store, period):
    """One customer's rows, which are merged from their sessions, after checking that the path for all
    customers (runs a window holds whole come from the workspace_runs rollup) gives the same rows."""
    one, every = (store.run("runtime_by_workspace_day", customer_id=customer_id, period_start=period.start,
                            period_end=period.end, now=NOW) for customer_id in ("cus_a", None))
    assert every.drop(columns="customer_id").equals(one.drop(columns="customer_id"))
    return one


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sessions=st.lists(session_strategy, min_size=1, max_size=12),
       first=st.integers(min_value=0, max_value=8), days=st.integers(min_value=1, max_value=6))
@example(sessions=[("ws1", 9 * 24 * 60, 24 * 60, "standard"), ("ws1", 9 * 24 * 60 - 30, 60, "gpu"),
                   ("ws2", 8 * 24 * 60, None, "large")],
         first=8, days=3)  # ws1: ends after now, so it still runs; ws2: has no end
@example(sessions=[("ws1", -60, 120, "standard"), ("ws1", -30, 60, "gpu"), ("ws1", 0, 0, "large"),
                   ("ws1", 30, 60, "large"), ("ws2", 20, 0, "gpu"), ("ws2", 20, 10, "standard")],
         first=0, days=2)  # ws1: two sessions run at the window start, the earlier started first; ws2: a tie
def test_runtime_properties(tmp_path_factory, sessions, first, days):
    folder = tmp_path_factory.mktemp("sessions")
    rows = [{"customer_id": "cus_a", "workspace_id": w, "user_id": "u", "template": t,
             "started_at": BASE + timedelta(minutes=o),
             "ended_at": None if n is None else BASE + timedelta(minutes=o + n)} for w, o, n, t in sessions]
    write_dataset(folder, "workspace_sessions", rows)
    write_dataset(folder, "customers", [customer()])
    store = build(folder, NOW)
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
        # each run under the template of its earliest session in the window
        by_template = rows.groupby(["workspace_id", "template"])["runtime_hours"].sum().to_dict()
        templates = oracle_templates(sessions, period.start, period.end)
        assert by_template.keys() == templates.keys()
        assert all(abs(by_template[key] - hours) < 1e-6 for key, hours in templates.items())
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
