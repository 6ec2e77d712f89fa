-- Per customer (one, or all when $customer_id is null) and linked provider: the first open day (the
-- earliest day with usage, up to today, that is not matched: pending, mismatch, or usage with no
-- reconciliation row), and how many days with usage inside the period are matched or mismatched. Rules
-- turn this into lag and badges; the first open day's status (pending, mismatch, missing) and the period's own
-- first open day say why. The first open day comes from its own rollup (one row per pair: ai_first_open_days),
-- and the period's days from the months it covers; both are grouped before the join with the links.
-- With them, over the period's days with a reconciliation row up to now (the days reconciliation_days_in
-- gives): the provider's own cost, summed over the days that have one, and how many days those are; the
-- metered cost it was compared with; and the mismatch in dollars, provider minus metered cost summed over the
-- days whose status is mismatch (on such a day only rows with a provider cost count). Zero and null where a
-- linked provider has no such day.
-- Also a row (linked false) for each provider with metered usage in the period up to now but no provider_links
-- row: reconciliation is not configured for it, so its usage is not attributed (the pairs ai_unlinked_providers
-- gives, read here from the period's days this query groups anyway, so a page needs no query of its own for
-- them). Such a row's other columns describe the pair's own days and are not figures of the customer.
-- Every customer's closed calendar month (is_closed_month) reads the period's sums from the monthly rollup
-- ai_reconciliation_months (the same sums of the same days, all of which count once the month has ended);
-- the way is picked from the parameters when the query is planned.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, first_open_day DATE, first_open_status VARCHAR, period_usage_days BIGINT, period_matched_days BIGINT, period_mismatch_days BIGINT, period_first_open_day DATE, period_first_open_status VARCHAR, provider_cost_usd DECIMAL, mismatch_usd DECIMAL, provider_cost_days BIGINT, compared_metered_usd DECIMAL, linked BOOLEAN
with open_days as (
    select
        d.customer_id,
        d.provider,
        d.day as first_open_day,
        d.status as first_open_status
    from ai_first_open_days as d
    where ($customer_id is null or d.customer_id = $customer_id)
        and (d.first_bucket_start < $now or (d.has_reconciliation and d.day <= cast($now as date)))
),

period_days as (
    select
        d.customer_id,
        d.provider,
        count(*) as usage_days,
        count(*) filter (where d.status = 'matched') as matched_days,
        count(*) filter (where d.status = 'mismatch') as mismatch_days,
        min(d.day) filter (where d.status <> 'matched') as first_open_day,
        arg_min(d.status, d.day) filter (where d.status <> 'matched') as first_open_status,
        sum(d.provider_cost_usd) filter (where cast(d.day as timestamp) < $now) as provider_cost_usd,
        sum(d.difference_usd) filter (where d.status = 'mismatch' and cast(d.day as timestamp) < $now)
            as mismatch_usd,
        count(d.provider_cost_usd) filter (where cast(d.day as timestamp) < $now) as provider_cost_days,
        sum(d.compared_metered_usd) filter (where cast(d.day as timestamp) < $now) as compared_metered_usd,
        count(*) filter (where d.first_bucket_start < $now) > 0 as has_usage  -- (metered usage before now)
    from ai_provider_days as d
    where not ($customer_id is null and is_closed_month($period_start, $period_end, $now))
        and ($customer_id is null or d.customer_id = $customer_id)
        and (d.first_bucket_start < $now or (d.has_reconciliation and d.day <= cast($now as date)))
        and d.day >= cast($period_start as date)
        and d.day < cast($period_end as date)
    group by d.customer_id, d.provider
    union all
    select
        m.customer_id,
        m.provider,
        m.usage_days,
        m.matched_days,
        m.mismatch_days,
        m.first_open_day,
        m.first_open_status,
        m.provider_cost_usd,
        m.mismatch_usd,
        m.provider_cost_days,
        m.compared_metered_usd,
        m.has_usage
    from ai_reconciliation_months as m
    where m.month_end = last_day(cast($period_start as date))
        and $customer_id is null and is_closed_month($period_start, $period_end, $now)
),

final as (
    select
        coalesce(l.customer_id, p.customer_id) as customer_id,
        coalesce(l.provider, p.provider) as provider,
        o.first_open_day,
        o.first_open_status,
        coalesce(p.usage_days, 0) as period_usage_days,
        coalesce(p.matched_days, 0) as period_matched_days,
        coalesce(p.mismatch_days, 0) as period_mismatch_days,
        p.first_open_day as period_first_open_day,
        p.first_open_status as period_first_open_status,
        p.provider_cost_usd,
        coalesce(p.mismatch_usd, 0) as mismatch_usd,
        coalesce(p.provider_cost_days, 0) as provider_cost_days,
        p.compared_metered_usd,
        l.provider is not null as linked
    from linked_providers($customer_id) as l
    left join open_days as o on l.customer_id = o.customer_id and l.provider = o.provider
    full join period_days as p on l.customer_id = p.customer_id and l.provider = p.provider
    where l.provider is not null or p.has_usage
)

select * from final
order by customer_id, provider
