-- Managed-AI usage per UTC day, provider and model for one customer (all customers when $customer_id
-- is null) in a period, as of $now, counting linked providers only (a provider_links row means
-- reconciliation is configured). Each row carries that day's reconciliation status: matched, pending,
-- mismatch, or missing (no reconciliation row).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, day DATE, provider VARCHAR, model VARCHAR, requests BIGINT, input_tokens BIGINT, cached_input_tokens BIGINT, output_tokens BIGINT, cost_usd DECIMAL, reconciliation_status VARCHAR
with linked as (
    select distinct
        l.customer_id,
        l.provider
    from provider_links as l
    where ($customer_id is null or l.customer_id = $customer_id)
),

usage as (
    select
        u.customer_id,
        u.day,
        u.provider,
        u.model,
        cast(sum(u.requests) as bigint) as requests,
        cast(sum(u.input_tokens) as bigint) as input_tokens,
        cast(sum(u.cached_input_tokens) as bigint) as cached_input_tokens,
        cast(sum(u.output_tokens) as bigint) as output_tokens,
        sum(u.cost_usd) as cost_usd
    from ai_usage_in($customer_id, $period_start, least($period_end, $now)) as u
    semi join linked as l on u.customer_id = l.customer_id and u.provider = l.provider
    group by all
),

day_status as (
    select
        d.customer_id,
        d.day,
        d.provider,
        d.status
    from ai_provider_days as d
    where ($customer_id is null or d.customer_id = $customer_id)
        and d.has_reconciliation
        and d.day >= cast($period_start as date)
        and d.day < cast($period_end as date)
),

final as (
    select
        u.customer_id,
        u.day,
        u.provider,
        u.model,
        u.requests,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.cost_usd,
        coalesce(s.status, 'missing') as reconciliation_status
    from usage as u
    left join day_status as s on u.customer_id = s.customer_id and u.day = s.day and u.provider = s.provider
)

select * from final
order by customer_id, day, provider, model
