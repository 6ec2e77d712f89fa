-- Providers with metered usage for one customer in a period (as of $now) but no provider_links row:
-- reconciliation is not configured, so their usage is not attributed to the customer.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: provider VARCHAR, metered_rows BIGINT
with linked as (
    select distinct l.provider
    from provider_links as l
    where l.customer_id = $customer_id
),

final as (
    select
        u.provider,
        count(*) as metered_rows
    from ai_usage as u
    anti join linked as l on u.provider = l.provider
    where u.customer_id = $customer_id
        and u.bucket_start >= $period_start
        and u.bucket_start < least($period_end, $now)
    group by u.provider
)

select * from final
order by provider
