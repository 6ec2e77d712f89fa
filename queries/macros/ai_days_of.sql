-- Managed-AI usage per customer, UTC day, provider and model (ai_usage_daily's rows), of one customer, or of all
-- when customer is null. One customer's come from the copy kept by customer (ai_customer_daily), where they sit in
-- a row group or two; every customer's from ai_usage_daily, kept by day, where a window of days skips the other
-- months. Whether customer is null picks one branch when the query is planned; the day filters of the query
-- reading it reach the scan of that branch.
create macro ai_days_of(customer) as table
select
    d.customer_id, d.day, d.provider, d.model, d.metered_rows, d.requests, d.input_tokens, d.cached_input_tokens,
    d.output_tokens, d.cost_usd, d.first_bucket_start
from ai_usage_daily as d
where customer is null
union all
select
    d.customer_id, d.day, d.provider, d.model, d.metered_rows, d.requests, d.input_tokens, d.cached_input_tokens,
    d.output_tokens, d.cost_usd, d.first_bucket_start
from ai_customer_daily as d
where d.customer_id = customer
