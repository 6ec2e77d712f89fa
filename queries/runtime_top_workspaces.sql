-- The workspaces with the most runtime of one customer (all customers when $customer_id is null) in a period,
-- as of $now, by the rules of runtime_by_workspace_day: hours, the UTC days with any runtime, and whether one
-- of its sessions runs now; the first $top by hours (then customer, workspace and template, so a tie is always
-- cut the same way). The all-customers Workspace runtime page draws these instead of fetching every
-- workspace's days of every customer (288,000 rows at 5,000 customers) to sum them itself. Hours are summed
-- per workspace from its runs in whole microseconds, and only the top workspaces' runs are split into UTC days to
-- count their active days: splitting every run of the window into its days to rank 83,000 workspaces took a
-- third more CPU (5,000 customers' month at 100M: 141-216 -> 100-148 ms; the same rows, to the bit).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP, $top INTEGER
-- returns: customer_id VARCHAR, workspace_id VARCHAR, template VARCHAR, runtime_hours DOUBLE, active_days BIGINT, is_running BOOLEAN
with runs as (
    select
        r.customer_id,
        r.workspace_id,
        r.template,
        r.start_at,
        r.end_at,
        r.is_running
    from runtime_runs_in($customer_id, $period_start, least($period_end, $now), $now) as r
),

workspaces as (
    select
        r.customer_id,
        r.workspace_id,
        r.template,
        sum(epoch_us(r.end_at) - epoch_us(r.start_at)) as runtime_us,
        bool_or(r.is_running) as is_running
    from runs as r
    group by r.customer_id, r.workspace_id, r.template
),

top as (
    select
        w.customer_id,
        w.workspace_id,
        w.template,
        w.runtime_us,
        w.is_running
    from workspaces as w
    order by w.runtime_us desc, w.customer_id, w.workspace_id, w.template
    limit $top
),

days as (
    select
        d.customer_id,
        d.workspace_id,
        d.template,
        count(distinct d.day_start_at) as active_days
    from (
        select
            r.customer_id,
            r.workspace_id,
            r.template,
            unnest(range(date_trunc('day', r.start_at), r.end_at, interval 1 day)) as day_start_at
        from runs as r
        semi join top as t
            on r.customer_id = t.customer_id and r.workspace_id = t.workspace_id and r.template = t.template
    ) as d
    group by d.customer_id, d.workspace_id, d.template
),

final as (
    select
        t.customer_id,
        t.workspace_id,
        t.template,
        t.runtime_us / 3600000000.0 as runtime_hours,
        d.active_days,
        t.is_running
    from top as t
    join days as d
        on t.customer_id = d.customer_id and t.workspace_id = d.workspace_id and t.template = d.template
)

select * from final
order by runtime_hours desc, customer_id, workspace_id, template
