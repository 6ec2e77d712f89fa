-- ai_usage_daily again, kept by customer and day: one customer's days then sit in a row group or two, where
-- ai_usage_daily (kept in day order, which a window of every customer needs) spreads them over every row group
-- of the window. The look ahead's usage since a prepaid snapshot a year back read all 2.8M rows of it at 100M
-- for one customer's 387 (12 ms of a page's 57 for the outlook). ai_usage_in and the outlook read it for one
-- customer, as runtime_runs_in reads workspace_customer_sessions.
-- reads: ai_usage
-- refresh from: day
select
    d.customer_id,
    d.day,
    d.provider,
    d.model,
    d.metered_rows,
    d.requests,
    d.input_tokens,
    d.cached_input_tokens,
    d.output_tokens,
    d.cost_usd,
    d.first_bucket_start
from ai_usage_daily as d
order by d.customer_id, d.day, d.provider, d.model
