-- Managed-AI usage of linked providers per UTC day, provider, model and reconciliation status, summed
-- across all customers: the operators' trend reads a month of whole days from a few hundred rows here
-- instead of summing every customer's days (ai_usage_trend reads the days a window cuts live). A day's
-- status is its customer's and provider's (ai_provider_days); missing when there is no reconciliation row.
-- A refresh sums it again from the first new day, unless links changed: a new link counts every day.
-- reads: ai_usage, reconciliation, provider_links
-- refresh from: day, unless provider_links changed
with linked as (
    select distinct
        l.customer_id,
        l.provider
    from provider_links as l
),

day_status as (
    select
        d.customer_id,
        d.day,
        d.provider,
        d.status
    from ai_provider_days as d
    where d.has_reconciliation
)

select
    u.day,
    u.provider,
    u.model,
    coalesce(s.status, 'missing') as reconciliation_status,
    cast(sum(u.requests) as bigint) as requests,
    cast(sum(u.input_tokens) as bigint) as input_tokens,
    cast(sum(u.cached_input_tokens) as bigint) as cached_input_tokens,
    cast(sum(u.output_tokens) as bigint) as output_tokens,
    sum(u.cost_usd) as cost_usd
from ai_usage_daily as u
semi join linked as l on u.customer_id = l.customer_id and u.provider = l.provider
left join day_status as s on u.customer_id = s.customer_id and u.day = s.day and u.provider = s.provider
group by all
order by day, provider, model, reconciliation_status
