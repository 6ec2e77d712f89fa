-- Workspace runtime hours per UTC day and workspace for one customer (all customers when $customer_id
-- is null) in a period, as of $now. Sessions are clipped to [period start, min(period end, now)); a
-- running session (no ended_at, or one ending after now) counts up to now. Overlapping sessions of one
-- workspace are merged first, so no hour is counted twice; the merged runs are then split exactly at
-- UTC midnights.
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
        s.template,
        greatest(s.started_at, w.window_start) as start_at,
        least(coalesce(s.ended_at, w.window_end), w.window_end) as end_at,
        s.ended_at is null or s.ended_at > $now as is_running
    from workspace_sessions as s
    cross join window_bounds as w
    where ($customer_id is null or s.customer_id = $customer_id)
        and s.started_at < w.window_end
        and (s.ended_at is null or s.ended_at > w.window_start)
),

ordered as (
    select
        c.*,
        max(c.end_at) over (
            partition by c.customer_id, c.workspace_id order by c.start_at, c.end_at
            rows between unbounded preceding and 1 preceding
        ) as previous_end_at
    from clipped as c
    where c.end_at > c.start_at
),

islands as (
    select
        o.*,
        sum(case when o.previous_end_at >= o.start_at then 0 else 1 end) over (
            partition by o.customer_id, o.workspace_id order by o.start_at, o.end_at
            rows between unbounded preceding and current row
        ) as island_no
    from ordered as o
),

merged as (
    select
        i.customer_id,
        i.workspace_id,
        arg_min(i.template, i.start_at) as template,
        min(i.start_at) as start_at,
        max(i.end_at) as end_at,
        bool_or(i.is_running) as is_running
    from islands as i
    group by i.customer_id, i.workspace_id, i.island_no
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
