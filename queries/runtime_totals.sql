-- Workspace runtime of one customer (all customers when $customer_id is null) in a period, as of $now, by
-- the rules of runtime_by_workspace_day, summed two ways from the same day parts:
--   rows with a customer_id: that customer's hours, workspaces with any runtime, whether one runs now, and
--     how many do (day and template are null);
--   rows without one: hours per UTC day and template across the customers in scope (the operators' trend;
--     active_workspaces and is_running are null there).
-- Every customer's closed calendar month (is_closed_month) is read from the monthly rollup
-- workspace_runtime_months (every run cut by the month as here), when the rollup reaches that month
-- ($runtime_months_until, which the store gives: its last month, that of the newest session start); any
-- other period, and one customer's, splits every run in the window here. Both sum whole microseconds, so the
-- two ways give the same hours to the last bit. The way is picked from the parameters when the query is
-- planned; the other reads nothing.
-- Pages get totals without fetching every workspace's days, which a page asks for only when it draws them.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP, $runtime_months_until DATE
-- returns: customer_id VARCHAR, day DATE, template VARCHAR, runtime_hours DOUBLE, active_workspaces BIGINT, is_running BOOLEAN, running_workspaces BIGINT
with parts as (
    select
        p.customer_id,
        p.workspace_id,
        p.template,
        p.day,
        p.runtime_us,
        p.is_running
    from runtime_day_parts_in($customer_id, $period_start, least($period_end, $now), $now) as p
    where not ($customer_id is null and is_closed_month($period_start, $period_end, $now)
        and last_day(cast($period_start as date)) <= $runtime_months_until)
),

month_rows as (
    select m.customer_id, m.workspace_id, m.day, m.template, m.runtime_us, m.last_end_at
    from workspace_runtime_months as m
    where m.month_end = last_day(cast($period_start as date))
        and $customer_id is null and is_closed_month($period_start, $period_end, $now)
        and m.month_end <= $runtime_months_until
),

workspaces as (
    select
        p.customer_id,
        p.workspace_id,
        sum(p.runtime_us) as runtime_us,
        bool_or(p.is_running) as is_running
    from parts as p
    group by p.customer_id, p.workspace_id
    union all
    select
        m.customer_id,
        m.workspace_id,
        m.runtime_us,
        m.last_end_at > $now as is_running
    from month_rows as m
    where m.customer_id is not null
),

days as (
    select
        p.day,
        p.template,
        sum(p.runtime_us) as runtime_us
    from parts as p
    group by p.day, p.template
    union all
    select
        m.day,
        m.template,
        m.runtime_us
    from month_rows as m
    where m.customer_id is null
),

final as (
    select
        w.customer_id,
        cast(null as date) as day,
        cast(null as varchar) as template,
        sum(w.runtime_us) / 3600000000.0 as runtime_hours,
        count(*) as active_workspaces,
        bool_or(w.is_running) as is_running,
        count(*) filter (where w.is_running) as running_workspaces
    from workspaces as w
    group by w.customer_id
    union all
    select
        cast(null as varchar) as customer_id,
        d.day,
        d.template,
        d.runtime_us / 3600000000.0 as runtime_hours,
        cast(null as bigint) as active_workspaces,
        cast(null as boolean) as is_running,
        cast(null as bigint) as running_workspaces
    from days as d
)

select * from final
order by customer_id, day, template
