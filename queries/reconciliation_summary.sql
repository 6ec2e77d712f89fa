-- Per customer (one, or all when $customer_id is null) and linked provider: the first open day (the
-- earliest day with usage, up to today, that is not matched: pending, mismatch, or usage with no
-- reconciliation row), and how many days with usage inside the period are matched or mismatched. Rules
-- turn this into lag and badges.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, first_open_day DATE, period_usage_days BIGINT, period_matched_days BIGINT, period_mismatch_days BIGINT
with linked as (
    select distinct
        l.customer_id,
        l.provider
    from provider_links as l
    where ($customer_id is null or l.customer_id = $customer_id)
),

days as (
    select
        d.customer_id,
        d.provider,
        d.day,
        d.status,
        d.day >= cast($period_start as date) and d.day < cast($period_end as date) as is_in_period
    from ai_provider_days as d
    where ($customer_id is null or d.customer_id = $customer_id)
        and (d.first_bucket_start < $now or (d.has_reconciliation and d.day <= cast($now as date)))
),

final as (
    select
        l.customer_id,
        l.provider,
        min(d.day) filter (where d.status <> 'matched') as first_open_day,
        count(d.day) filter (where d.is_in_period) as period_usage_days,
        count(d.day) filter (where d.is_in_period and d.status = 'matched') as period_matched_days,
        count(d.day) filter (where d.is_in_period and d.status = 'mismatch') as period_mismatch_days
    from linked as l
    left join days as d on l.customer_id = d.customer_id and l.provider = d.provider
    group by l.customer_id, l.provider
)

select * from final
order by customer_id, provider
