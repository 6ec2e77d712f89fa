-- Managed-AI usage per UTC day, provider and model for one customer (all customers when $customer_id
-- is null) in a period, as of $now, counting linked providers only (a provider_links row means
-- reconciliation is configured). Each row carries that day's reconciliation status: matched, pending,
-- mismatch, or missing (no reconciliation row).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, day DATE, provider VARCHAR, model VARCHAR, requests BIGINT, input_tokens BIGINT, cached_input_tokens BIGINT, output_tokens BIGINT, cost_usd DECIMAL, reconciliation_status VARCHAR
with final as (
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
        u.reconciliation_status
    from ai_linked_usage_in($customer_id, $period_start, least($period_end, $now)) as u
)

select * from final
order by customer_id, day, provider, model
