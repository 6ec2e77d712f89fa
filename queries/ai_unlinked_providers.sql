-- Providers with metered usage for one customer (all customers when $customer_id is null) in a period
-- (as of $now) but no provider_links row: reconciliation is not configured, so their usage is not
-- attributed to the customer.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, metered_rows BIGINT
with linked as (
    select distinct
        l.customer_id,
        l.provider
    from provider_links as l
    where ($customer_id is null or l.customer_id = $customer_id)
),

final as (
    select
        u.customer_id,
        u.provider,
        count(*) as metered_rows
    from ai_usage as u
    anti join linked as l on u.customer_id = l.customer_id and u.provider = l.provider
    where ($customer_id is null or u.customer_id = $customer_id)
        and u.bucket_start >= $period_start
        and u.bucket_start < least($period_end, $now)
    group by u.customer_id, u.provider
)

select * from final
order by customer_id, provider
