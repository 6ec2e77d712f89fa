-- Managed-AI usage totals per customer (one, or all when $customer_id is null) and linked provider in a
-- period, as of $now: the figures of the provider cards, the billing handoff and the operators' table.
-- Summed here, once per (customer, provider), rather than in pandas over ai_usage_by_day's rows, which a
-- page only fetches when it draws them. Providers without a provider_links row are not attributed
-- (reconciliation_summary names them, in its rows not linked). Every customer's closed calendar month
-- (is_closed_month) is read from the monthly rollup ai_provider_months, the sums of the same days; the way
-- is picked from the parameters when the query is planned.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, requests BIGINT, input_tokens BIGINT, cached_input_tokens BIGINT, output_tokens BIGINT, cost_usd DECIMAL
with usage as (
    select u.customer_id, u.provider, u.requests, u.input_tokens, u.cached_input_tokens, u.output_tokens, u.cost_usd
    from ai_usage_in($customer_id, $period_start, least($period_end, $now)) as u
    where not ($customer_id is null and is_closed_month($period_start, $period_end, $now))
    union all
    select m.customer_id, m.provider, m.requests, m.input_tokens, m.cached_input_tokens, m.output_tokens, m.cost_usd
    from ai_provider_months as m
    where m.month_end = last_day(cast($period_start as date))
        and $customer_id is null and is_closed_month($period_start, $period_end, $now)
),

final as (
    select
        u.customer_id,
        u.provider,
        cast(sum(u.requests) as bigint) as requests,
        cast(sum(u.input_tokens) as bigint) as input_tokens,
        cast(sum(u.cached_input_tokens) as bigint) as cached_input_tokens,
        cast(sum(u.output_tokens) as bigint) as output_tokens,
        sum(u.cost_usd) as cost_usd
    from usage as u
    semi join linked_providers($customer_id) as l on u.customer_id = l.customer_id and u.provider = l.provider
    group by u.customer_id, u.provider
)

select * from final
order by customer_id, provider
