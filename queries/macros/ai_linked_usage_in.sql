-- Managed-AI usage of linked providers (a provider_links row means reconciliation is configured) per
-- customer (one, or all when customer is null), UTC day, provider and model inside [window_start,
-- window_end) (ai_usage_in), each row with that day's reconciliation status for its customer and provider:
-- matched, pending, mismatch, or missing (no reconciliation row).
create macro ai_linked_usage_in(customer, window_start, window_end) as table
with usage as (
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
    from ai_usage_in(customer, window_start, window_end) as u
    semi join linked_providers(customer) as l on u.customer_id = l.customer_id and u.provider = l.provider
    group by all
),

day_status as (
    select
        d.customer_id,
        d.day,
        d.provider,
        d.status
    from ai_provider_days as d
    where (customer is null or d.customer_id = customer)
        and d.has_reconciliation
        and d.day >= cast(window_start as date)
        and d.day <= cast(window_end as date)
)

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
