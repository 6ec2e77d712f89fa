-- Managed-AI usage per UTC day, provider, model and reconciliation status, summed across the customers in
-- scope (one, or all when $customer_id is null) in a period, as of $now: the operators' trend, by the
-- rules of ai_usage_by_day (linked providers only; a day's status is its customer's and provider's),
-- without handing every customer's days to the page.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: day DATE, provider VARCHAR, model VARCHAR, reconciliation_status VARCHAR, requests BIGINT, input_tokens BIGINT, cached_input_tokens BIGINT, output_tokens BIGINT, cost_usd DECIMAL
with final as (
    select
        u.day,
        u.provider,
        u.model,
        u.reconciliation_status,
        cast(sum(u.requests) as bigint) as requests,
        cast(sum(u.input_tokens) as bigint) as input_tokens,
        cast(sum(u.cached_input_tokens) as bigint) as cached_input_tokens,
        cast(sum(u.output_tokens) as bigint) as output_tokens,
        sum(u.cost_usd) as cost_usd
    from ai_linked_usage_in($customer_id, $period_start, least($period_end, $now)) as u
    group by all
)

select * from final
order by day, provider, model, reconciliation_status
