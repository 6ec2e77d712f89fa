-- Per customer (one, or all when $customer_id is null), linked provider and day of the period up to $now
-- that has a reconciliation row: the day's status, the metered cost it was compared with, the provider's
-- cost (null when no row has one) and their difference (provider minus metered, over rows with both).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, day DATE, status VARCHAR, metered_cost_usd DECIMAL, provider_cost_usd DECIMAL, difference_usd DECIMAL
with final as (
    select
        r.customer_id,
        r.provider,
        r.usage_date as day,
        reconciliation_day_status(r.status) as status,
        sum(r.metered_cost_usd) as metered_cost_usd,
        sum(r.provider_cost_usd) as provider_cost_usd,
        sum(r.provider_cost_usd - r.metered_cost_usd) as difference_usd
    from reconciliation as r
    semi join linked_providers($customer_id) as l on r.customer_id = l.customer_id and r.provider = l.provider
    where ($customer_id is null or r.customer_id = $customer_id)
        and r.usage_date >= cast($period_start as date)
        and r.usage_date < cast($period_end as date)
        and cast(r.usage_date as timestamp) < $now
    group by r.customer_id, r.provider, r.usage_date
)

select * from final
order by customer_id, provider, day
