-- Workspace runtime hours per UTC day and workspace for one customer (all customers when $customer_id
-- is null) in a period, as of $now. Sessions are clipped to [period start, min(period end, now)); a
-- running session (no ended_at, or one ending after now) counts up to now. Overlapping sessions of one
-- workspace are merged first (by the run each belongs to: workspace_session_runs), so no hour is counted
-- twice; the merged runs are then split exactly at UTC midnights.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, day DATE, workspace_id VARCHAR, template VARCHAR, runtime_hours DOUBLE, is_running BOOLEAN
with window_bounds as (
    select
        $period_start as window_start,
        least($period_end, $now) as window_end
),

clipped as (
    select
        s.customer_id,
        s.workspace_id,
        s.run_no,
        s.template,
        greatest(s.started_at, w.window_start) as start_at,
        least(coalesce(s.ended_at, w.window_end), w.window_end) as end_at,
        s.ended_at is null or s.ended_at > $now as is_running
    from workspace_session_runs as s
    cross join window_bounds as w
    where ($customer_id is null or s.customer_id = $customer_id)
        and s.started_at < w.window_end
        and (s.ended_at is null or s.ended_at > w.window_start)
),

merged as (
    select
        c.customer_id,
        c.workspace_id,
        arg_min(c.template, c.start_at) as template,
        min(c.start_at) as start_at,
        max(c.end_at) as end_at,
        bool_or(c.is_running) as is_running
    from clipped as c
    where c.end_at > c.start_at
    group by c.customer_id, c.workspace_id, c.run_no
),

day_parts as (
    select
        m.customer_id,
        m.workspace_id,
        m.template,
        m.start_at,
        m.end_at,
        m.is_running,
        unnest(range(date_trunc('day', m.start_at), m.end_at, interval 1 day)) as day_start_at
    from merged as m
),

final as (
    select
        p.customer_id,
        cast(p.day_start_at as date) as day,
        p.workspace_id,
        p.template,
        sum(epoch(least(p.end_at, p.day_start_at + interval 1 day) - greatest(p.start_at, p.day_start_at))) / 3600.0
            as runtime_hours,
        bool_or(p.is_running) as is_running
    from day_parts as p
    group by all
)

select * from final
order by customer_id, day, workspace_id, template
