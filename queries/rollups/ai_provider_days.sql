-- Every (customer, provider, day) with managed-AI usage or a reconciliation row: the day's reconciliation
-- status (missing when there is no row), whether it has a row, and its first usage bucket (so a query can
-- ask "usage before now" without reading the buckets). Reconciliation lag and final totals read this.
-- Its reconciliation amounts too, as reconciliation_days_in sums them from the day's rows: the provider's
-- cost (null when no row has one), the metered cost of the rows that have one, and their difference
-- (provider minus metered, over rows with both); null on a day with no reconciliation row.
-- Kept by month, then customer: a period of every customer reads its months only, one customer its rows
-- in each month. The first day not matched, which lag is worked out from, is also kept apart (ai_first_open_days).
-- The two sides are put together by a group-by over their union (not a full join), so a refresh's
-- "from this day on" reaches down to both sides' rows of those days only. The usage side's empty amounts are
-- typed as the reconciliation side's sums (DECIMAL(38,9)): a union takes the first side's scale, and at 6 places
-- it would round each day's amounts before the period sums them (money is rounded once, per provider).
-- reads: ai_usage, reconciliation
-- refresh from: day
-- made month by month
with usage_days as (
    select
        d.customer_id,
        d.provider,
        d.day,
        min(d.first_bucket_start) as first_bucket_start,
        cast(null as varchar) as status,
        cast(null as decimal(38, 9)) as provider_cost_usd,
        cast(null as decimal(38, 9)) as compared_metered_usd,
        cast(null as decimal(38, 9)) as difference_usd
    from ai_usage_daily as d
    group by all
),

reconciled_days as (
    select
        r.customer_id,
        r.provider,
        r.usage_date as day,
        cast(null as timestamp) as first_bucket_start,
        reconciliation_day_status(r.status) as status,
        sum(r.provider_cost_usd) as provider_cost_usd,
        sum(r.metered_cost_usd) filter (where r.provider_cost_usd is not null) as compared_metered_usd,
        sum(r.provider_cost_usd - r.metered_cost_usd) as difference_usd
    from reconciliation as r
    group by all
),

final as (
    select
        s.customer_id,
        s.provider,
        s.day,
        coalesce(max(s.status), 'missing') as status,
        count(s.status) > 0 as has_reconciliation,
        min(s.first_bucket_start) as first_bucket_start,
        sum(s.provider_cost_usd) as provider_cost_usd,  -- (one side has them: a sum of it and nulls)
        sum(s.compared_metered_usd) as compared_metered_usd,
        sum(s.difference_usd) as difference_usd
    from (select * from usage_days union all select * from reconciled_days) as s
    group by s.customer_id, s.provider, s.day
)

select * from final
order by date_trunc('month', day), customer_id, provider, day
