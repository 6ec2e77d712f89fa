-- The usage of the last 7 whole UTC days before today's midnight, per customer (one, or all when $customer_id is
-- null), as of $now: workspace runtime (the runtime rule) and managed-AI cost of linked providers. The burn of a
-- prepaid balance, and the daily rate a projection to the period's end uses. One row per customer with any; a
-- customer without a row used nothing. (Usage since a prepaid snapshot is outlook_since's: most accounts are not
-- prepaid, and one customer's figures ask for it only when its billing snapshot is.)
-- params: $customer_id VARCHAR, $now TIMESTAMP
-- returns: customer_id VARCHAR, runtime_hours_7d DOUBLE, ai_usd_7d DECIMAL
-- The last 7 whole days are whole days of the daily rollups: the ended runs' runtime per day, and the runs still
-- running (no end, which that rollup leaves out; kept apart by customer in workspace_running_runs) from the later
-- of their start and the window's start to today's midnight; the linked providers' cost per day. Reading the runs
-- and days as they are (runtime_runs_in and ai_linked_usage_in merged sessions again and joined each day's
-- reconciliation status) made a customer's outlook plan and run two table macros for two sums.
with runtime_7d_rows as (
    select
        d.customer_id,
        d.runtime_us
    from workspace_runtime_daily as d
    where ($customer_id is null or d.customer_id = $customer_id)
        and d.day >= cast(date_trunc('day', $now) - interval 7 day as date)
        and d.day < cast(date_trunc('day', $now) as date)
    union all
    select
        r.customer_id,
        epoch_us(date_trunc('day', $now))
            - epoch_us(greatest(r.started_at, date_trunc('day', $now) - interval 7 day)) as runtime_us
    from workspace_running_runs as r
    where ($customer_id is null or r.customer_id = $customer_id)
        and r.started_at < date_trunc('day', $now)
),

runtime_7d as (
    select
        r.customer_id,
        cast(sum(r.runtime_us) as double) / 1000000.0 / 3600.0 as runtime_hours
    from runtime_7d_rows as r
    group by r.customer_id
),

ai_7d as (
    select
        d.customer_id,
        sum(d.cost_usd) as cost_usd
    from ai_days_of($customer_id) as d
    semi join linked_providers($customer_id) as l on d.customer_id = l.customer_id and d.provider = l.provider
    where d.day >= cast(date_trunc('day', $now) - interval 7 day as date)
        and d.day < cast(date_trunc('day', $now) as date)
    group by d.customer_id
),

final as (
    select
        coalesce(r.customer_id, a.customer_id) as customer_id,
        coalesce(r.runtime_hours, 0.0) as runtime_hours_7d,
        coalesce(a.cost_usd, 0) as ai_usd_7d
    from runtime_7d as r
    full join ai_7d as a on r.customer_id = a.customer_id
)

select * from final
order by customer_id
