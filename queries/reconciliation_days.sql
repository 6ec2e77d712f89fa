-- Per customer (one, or all when $customer_id is null), linked provider and day of the period up to $now
-- that has a reconciliation row: the day's status, the metered cost it was compared with, the provider's
-- cost (null when no row has one) and their difference (provider minus metered, over rows with both).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, day DATE, status VARCHAR, metered_cost_usd DECIMAL, provider_cost_usd DECIMAL, difference_usd DECIMAL
with final as (
    select
        d.customer_id,
        d.provider,
        d.day,
        d.status,
        d.metered_cost_usd,
        d.provider_cost_usd,
        d.difference_usd
    from reconciliation_days_in($customer_id, $period_start, $period_end, $now) as d
)

select * from final
order by customer_id, provider, day
