-- Workspace runtime hours per UTC day of the customers with the most runtime in a period, as of $now, by the
-- rules of runtime_by_workspace_day, for a chart of at most $series series: with more customers than that, the
-- first $series - 1 by hours in the period (then by id) and the rest summed per day as one series, whose
-- customer_id is null and whose `others` says how many customers it holds (0 on the named customers' rows).
-- One customer ($customer_id) or all when it is null. The all-customers Workspace runtime page draws these
-- (colour by customer) instead of fetching every workspace's days of every customer.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP, $series INTEGER
-- returns: day DATE, customer_id VARCHAR, runtime_hours DOUBLE, others BIGINT
with parts as (
    select
        p.customer_id,
        p.day,
        p.runtime_seconds
    from runtime_day_parts_in($customer_id, $period_start, least($period_end, $now), $now) as p
),

ranked as (
    select
        p.customer_id,
        row_number() over (order by sum(p.runtime_seconds) desc, p.customer_id) as rank,
        count(*) over () as customers
    from parts as p
    group by p.customer_id
),

final as (
    select
        p.day,
        case when r.customers <= $series or r.rank < $series then p.customer_id end as customer_id,
        sum(p.runtime_seconds) / 3600.0 as runtime_hours,
        max(case when r.customers <= $series or r.rank < $series then 0 else r.customers - $series + 1 end)
            as others
    from parts as p
    inner join ranked as r on p.customer_id = r.customer_id
    group by all
)

select * from final
order by day, customer_id nulls last
