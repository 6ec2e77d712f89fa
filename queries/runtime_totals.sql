-- Workspace runtime of one customer (all customers when $customer_id is null) in a period, as of $now, by
-- the rules of runtime_by_workspace_day, summed two ways from one pass over the runs:
--   rows with a customer_id: that customer's hours, workspaces with any runtime, whether one runs now, and
--     how many do (day and template are null);
--   rows without one: hours per UTC day and template across the customers in scope (the operators' trend;
--     active_workspaces and is_running are null there).
-- Pages get totals without fetching every workspace's days, which a page asks for only when it draws them.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, day DATE, template VARCHAR, runtime_hours DOUBLE, active_workspaces BIGINT, is_running BOOLEAN, running_workspaces BIGINT
with parts as (
    select
        p.customer_id,
        p.workspace_id,
        p.template,
        p.day,
        p.runtime_seconds,
        p.is_running
    from runtime_day_parts_in($customer_id, $period_start, least($period_end, $now), $now) as p
),

workspaces as (
    select
        p.customer_id,
        p.workspace_id,
        sum(p.runtime_seconds) as runtime_seconds,
        bool_or(p.is_running) as is_running
    from parts as p
    group by p.customer_id, p.workspace_id
),

final as (
    select
        w.customer_id,
        cast(null as date) as day,
        cast(null as varchar) as template,
        sum(w.runtime_seconds) / 3600.0 as runtime_hours,
        count(*) as active_workspaces,
        bool_or(w.is_running) as is_running,
        count(*) filter (where w.is_running) as running_workspaces
    from workspaces as w
    group by w.customer_id
    union all
    select
        cast(null as varchar) as customer_id,
        p.day,
        p.template,
        sum(p.runtime_seconds) / 3600.0 as runtime_hours,
        cast(null as bigint) as active_workspaces,
        cast(null as boolean) as is_running,
        cast(null as bigint) as running_workspaces
    from parts as p
    group by p.day, p.template
)

select * from final
order by customer_id, day, template
