-- Workspace runtime per calendar month (UTC, each named by its last day) from from_month on, as
-- runtime_runs_in cuts it with that month as the window: the runs (rows of runs, as workspace_runs) and
-- their sessions (session_runs, as workspace_session_runs) named by the caller (the rollup
-- workspace_runtime_months over every month; its refresh from the first month new sessions reach).
-- A run the month holds whole counts as it is; a run the month's start or end cuts is merged from its
-- sessions inside the month and takes the template of the earliest of them (on a tie, the one that started
-- first, then the first by name). A run still running (a session with no end) reaches to the end of the
-- month of the newest session start, the last month the exports can say anything of (a reader asks for a
-- later month from the runs themselves). Two kinds of row, summed from the same day parts:
--   per customer and workspace (day and template null): its runtime in the month, in whole microseconds
--     (sums of them are exact in any order), and the latest end of the sessions that gave it ('infinity'
--     while one runs; a session ending after "now" still runs then, and the reader compares);
--   per UTC day and template (customer_id and workspace_id null): the runtime of every customer's runs.
create macro runtime_months_of(runs, session_runs, from_month) as table
with extent as (
    select date_trunc('month', max(s.started_at)) + interval 1 month as end_at
    from query_table(session_runs) as s
),

months as (
    select
        m.*,
        m.month_start + interval 1 month as month_end_at,
        m.started_at >= m.month_start and m.ended_at <= m.month_start + interval 1 month as is_whole
    from (
        select
            r.customer_id,
            r.workspace_id,
            r.run_no,
            r.template,
            r.started_at,
            r.ended_at,
            unnest(range(greatest(date_trunc('month', r.started_at), from_month), coalesce(r.ended_at, e.end_at),
                         interval 1 month)) as month_start
        from query_table(runs) as r, extent as e
        where coalesce(r.ended_at, e.end_at) > from_month
    ) as m
),

cut as (
    select
        m.customer_id,
        m.workspace_id,
        m.run_no,
        m.month_start,
        s.template,
        s.started_at,
        greatest(s.started_at, m.month_start) as start_at,
        least(coalesce(s.ended_at, m.month_end_at), m.month_end_at) as end_at,
        coalesce(s.ended_at, timestamp 'infinity') as last_end_at
    from months as m
    join query_table(session_runs) as s
        on s.customer_id = m.customer_id and s.workspace_id = m.workspace_id and s.run_no = m.run_no
    where not coalesce(m.is_whole, false)
        and s.started_at < m.month_end_at
        and (s.ended_at is null or s.ended_at > m.month_start)
),

runs as (
    select
        m.customer_id,
        m.workspace_id,
        m.month_start,
        m.template,
        m.started_at as start_at,
        m.ended_at as end_at,
        m.ended_at as last_end_at
    from months as m
    where m.is_whole
    union all
    select
        c.customer_id,
        c.workspace_id,
        c.month_start,
        arg_min(c.template, (c.started_at, c.template)) as template,
        min(c.start_at) as start_at,
        max(c.end_at) as end_at,
        max(c.last_end_at) as last_end_at
    from cut as c
    where c.end_at > c.start_at
    group by c.customer_id, c.workspace_id, c.run_no, c.month_start
),

parts as (
    select
        p.customer_id,
        p.workspace_id,
        last_day(cast(p.month_start as date)) as month_end,
        cast(p.day_start_at as date) as day,
        p.template,
        epoch_us(least(p.end_at, p.day_start_at + interval 1 day)) - epoch_us(greatest(p.start_at, p.day_start_at))
            as runtime_us,
        p.last_end_at
    from (
        select
            r.*,
            unnest(range(date_trunc('day', r.start_at), r.end_at, interval 1 day)) as day_start_at
        from runs as r
    ) as p
)

select
    p.month_end,
    p.customer_id,
    p.workspace_id,
    p.day,
    p.template,
    cast(sum(p.runtime_us) as bigint) as runtime_us,
    case when grouping(p.customer_id) = 0 then max(p.last_end_at) end as last_end_at
from parts as p
group by grouping sets ((p.month_end, p.customer_id, p.workspace_id), (p.month_end, p.day, p.template))
