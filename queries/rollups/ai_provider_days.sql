-- Every (customer, provider, day) with managed-AI usage or a reconciliation row: the day's reconciliation
-- status (missing when there is no row), whether it has a row, and its first usage bucket (so a query can
-- ask "usage before now" without reading the buckets). Reconciliation lag and final totals read this.
-- Kept by month, then customer: a period of every customer reads its months only, one customer its rows
-- in each month. The days not matched, which lag is worked out from, are also kept apart (ai_open_days).
-- reads: ai_usage, reconciliation
with usage_days as (
    select
        d.customer_id,
        d.provider,
        d.day,
        min(d.first_bucket_start) as first_bucket_start
    from ai_usage_daily as d
    group by all
),

reconciled_days as (
    select
        r.customer_id,
        r.provider,
        r.usage_date as day,
        reconciliation_day_status(r.status) as status
    from reconciliation as r
    group by all
),

final as (
    select
        coalesce(u.customer_id, r.customer_id) as customer_id,
        coalesce(u.provider, r.provider) as provider,
        coalesce(u.day, r.day) as day,
        coalesce(r.status, 'missing') as status,
        r.status is not null as has_reconciliation,
        u.first_bucket_start
    from usage_days as u
    full outer join reconciled_days as r on u.customer_id = r.customer_id and u.provider = r.provider and u.day = r.day
)

select * from final
order by date_trunc('month', day), customer_id, provider, day
