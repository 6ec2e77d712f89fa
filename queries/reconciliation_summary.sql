-- Per linked provider of one customer: the first open day (the earliest day with usage, up to today,
-- that is not matched: pending, mismatch, or usage with no reconciliation row), and how many days
-- with usage inside the period are matched or mismatched. Rules turn this into lag and badges.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: provider VARCHAR, first_open_day DATE, period_usage_days BIGINT, period_matched_days BIGINT, period_mismatch_days BIGINT
with linked as (
    select distinct l.provider
    from provider_links as l
    where l.customer_id = $customer_id
),

usage_days as (
    select distinct
        u.provider,
        cast(u.bucket_start as date) as day
    from ai_usage as u
    where u.customer_id = $customer_id
        and u.bucket_start < $now
    union
    select distinct
        r.provider,
        r.usage_date as day
    from reconciliation as r
    where r.customer_id = $customer_id
        and r.usage_date <= cast($now as date)
),

day_status as (
    select
        r.usage_date as day,
        r.provider,
        reconciliation_day_status(r.status) as status
    from reconciliation as r
    where r.customer_id = $customer_id
    group by all
),

days as (
    select
        d.provider,
        d.day,
        coalesce(s.status, 'missing') as status,
        d.day >= cast($period_start as date) and d.day < cast($period_end as date) as is_in_period
    from usage_days as d
    left join day_status as s on d.day = s.day and d.provider = s.provider
),

final as (
    select
        l.provider,
        min(d.day) filter (where d.status <> 'matched') as first_open_day,
        count(d.day) filter (where d.is_in_period) as period_usage_days,
        count(d.day) filter (where d.is_in_period and d.status = 'matched') as period_matched_days,
        count(d.day) filter (where d.is_in_period and d.status = 'mismatch') as period_mismatch_days
    from linked as l
    left join days as d on l.provider = d.provider
    group by l.provider
)

select * from final
order by provider
