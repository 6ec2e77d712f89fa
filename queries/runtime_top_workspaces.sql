-- The workspaces with the most runtime of one customer (all customers when $customer_id is null) in a period,
-- as of $now, by the rules of runtime_by_workspace_day: hours, the UTC days with any runtime, and whether one
-- of its sessions runs now; the first $top by hours (then customer, workspace and template, so a tie is always
-- cut the same way). The all-customers Workspace runtime page draws these instead of fetching every
-- workspace's days of every customer (288,000 rows at 5,000 customers) to sum them itself.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP, $top INTEGER
-- returns: customer_id VARCHAR, workspace_id VARCHAR, template VARCHAR, runtime_hours DOUBLE, active_days BIGINT, is_running BOOLEAN
with days as (
    select
        p.customer_id,
        p.workspace_id,
        p.template,
        p.day,
        sum(p.runtime_seconds) as runtime_seconds,
        bool_or(p.is_running) as is_running
    from runtime_day_parts_in($customer_id, $period_start, least($period_end, $now), $now) as p
    group by all
),

workspaces as (
    select
        d.customer_id,
        d.workspace_id,
        d.template,
        sum(d.runtime_seconds) / 3600.0 as runtime_hours,
        count(*) as active_days,
        bool_or(d.is_running) as is_running
    from days as d
    group by all
),

final as (
    select
        w.customer_id,
        w.workspace_id,
        w.template,
        w.runtime_hours,
        w.active_days,
        w.is_running
    from workspaces as w
    order by w.runtime_hours desc, w.customer_id, w.workspace_id, w.template
    limit $top
)

select * from final
order by runtime_hours desc, customer_id, workspace_id, template
