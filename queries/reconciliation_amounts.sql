-- Per customer (one, or all when $customer_id is null) and linked provider, over the period's days up to
-- $now: the provider's own cost, summed over the days that have one, and the mismatch in dollars: provider
-- cost minus the metered cost it was compared with, summed over the days whose status is mismatch (each
-- day's status as reconciliation_day_status gives it; on such a day only rows with a provider cost count);
-- and the metered cost those provider figures were compared with (rows with a provider cost), for the page.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, provider_cost_usd DECIMAL, mismatch_usd DECIMAL, provider_cost_days BIGINT, compared_metered_usd DECIMAL
with final as (
    select
        d.customer_id,
        d.provider,
        sum(d.provider_cost_usd) as provider_cost_usd,
        coalesce(sum(d.difference_usd) filter (where d.status = 'mismatch'), 0) as mismatch_usd,
        count(d.provider_cost_usd) as provider_cost_days,
        sum(d.compared_metered_usd) as compared_metered_usd
    from reconciliation_days_in($customer_id, $period_start, $period_end, $now) as d
    group by d.customer_id, d.provider
)

select * from final
order by customer_id, provider
