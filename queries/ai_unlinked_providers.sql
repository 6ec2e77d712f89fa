-- Providers with metered usage for one customer (all customers when $customer_id is null) in a period
-- (as of $now) but no provider_links row: reconciliation is not configured, so their usage is not
-- attributed to the customer.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, metered_rows BIGINT
with final as (
    select
        u.customer_id,
        u.provider,
        cast(sum(u.metered_rows) as bigint) as metered_rows
    from ai_usage_in($customer_id, $period_start, least($period_end, $now)) as u
    anti join linked_providers($customer_id) as l on u.customer_id = l.customer_id and u.provider = l.provider
    group by u.customer_id, u.provider
)

select * from final
order by customer_id, provider
