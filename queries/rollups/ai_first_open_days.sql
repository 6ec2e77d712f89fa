-- Per customer and provider, its earliest day in ai_provider_days that is not matched (pending, mismatch, or
-- missing: usage with no reconciliation row), with that day's status, whether it has a reconciliation row and
-- its first usage bucket: reconciliation lag's first open day, one row per pair instead of every open day
-- (334,000 at 100M). A day counts as of now when it has usage before now or a reconciliation row dated no later
-- than today (reconciliation_summary asks); when the earliest does not, no later day does (it lies at or after
-- today, so every later one lies after it, its usage after now), so the earliest open day is all a query needs.
-- reads: ai_usage, reconciliation
select
    d.customer_id,
    d.provider,
    d.day,
    d.status,
    d.has_reconciliation,
    d.first_bucket_start
from ai_provider_days as d
where d.status <> 'matched'
qualify row_number() over (partition by d.customer_id, d.provider order by d.day) = 1
order by d.customer_id, d.provider
