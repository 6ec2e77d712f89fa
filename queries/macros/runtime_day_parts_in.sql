-- Workspace runtime inside [window_start, window_end) as of as_of, per customer (one, or all when customer
-- is null), run and UTC day: sessions are clipped to the window, a running session (no ended_at, or one
-- ending after as_of) counts up to the window end. The sessions of one run (workspace_session_runs) are
-- merged first, so no second is counted twice; the run takes the template of its earliest session in the
-- window, and is split exactly at UTC midnights. Queries sum the parts per workspace and day, per customer,
-- or per day and template.
create macro runtime_day_parts_in(customer, window_start, window_end, as_of) as table
with clipped as (
    select
        s.customer_id,
        s.workspace_id,
        s.run_no,
        s.template,
        greatest(s.started_at, window_start) as start_at,
        least(coalesce(s.ended_at, window_end), window_end) as end_at,
        s.ended_at is null or s.ended_at > as_of as is_running
    from workspace_session_runs as s
    where (customer is null or s.customer_id = customer)
        and s.started_at < window_end
        and (s.ended_at is null or s.ended_at > window_start)
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
)

select
    p.customer_id,
    p.workspace_id,
    p.template,
    cast(p.day_start_at as date) as day,
    epoch(least(p.end_at, p.day_start_at + interval 1 day) - greatest(p.start_at, p.day_start_at)) as runtime_seconds,
    p.is_running
from day_parts as p
