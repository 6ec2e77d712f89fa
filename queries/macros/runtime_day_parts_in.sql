-- Workspace runtime inside [window_start, window_end) as of as_of, per customer (one, or all when customer
-- is null), run and UTC day: the runs of runtime_runs_in, split exactly at UTC midnights. Queries sum the
-- parts per workspace and day, per customer, or per day and template; the runtime in seconds, and in whole
-- microseconds for sums that are exact in any order (runtime_totals, which reads a monthly rollup of them).
create macro runtime_day_parts_in(customer, window_start, window_end, as_of) as table
with day_parts as (
    select
        r.customer_id,
        r.workspace_id,
        r.template,
        r.start_at,
        r.end_at,
        r.is_running,
        unnest(range(date_trunc('day', r.start_at), r.end_at, interval 1 day)) as day_start_at
    from runtime_runs_in(customer, window_start, window_end, as_of) as r
)

select
    p.customer_id,
    p.workspace_id,
    p.template,
    cast(p.day_start_at as date) as day,
    epoch(least(p.end_at, p.day_start_at + interval 1 day) - greatest(p.start_at, p.day_start_at)) as runtime_seconds,
    epoch_us(least(p.end_at, p.day_start_at + interval 1 day)) - epoch_us(greatest(p.start_at, p.day_start_at))
        as runtime_us,
    p.is_running
from day_parts as p
