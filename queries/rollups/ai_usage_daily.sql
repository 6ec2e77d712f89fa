-- Managed-AI usage per customer, UTC day, provider and model: the checked rows summed once at ingest, so a
-- page reads a month of whole days from a few thousand rows instead of every hourly bucket. The day that
-- a window cuts (today up to now, or a period's partial edge) is read from ai_usage itself (ai_usage_in).
-- Kept in day order: an operators' month of every customer then skips the other months' rows (54 -> 24 ms
-- at 100M rows), while one customer's month still takes a few milliseconds.
-- reads: ai_usage
-- refresh from: day
-- made month by month
select
    u.customer_id,
    cast(u.bucket_start as date) as day,
    u.provider,
    u.model,
    count(*) as metered_rows,
    sum(u.requests) as requests,
    sum(u.input_tokens) as input_tokens,
    sum(u.cached_input_tokens) as cached_input_tokens,
    sum(u.output_tokens) as output_tokens,
    sum(u.cost_usd) as cost_usd,
    min(u.bucket_start) as first_bucket_start
from ai_usage as u
group by all
order by day, customer_id, provider, model
