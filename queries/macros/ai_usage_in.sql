-- Managed-AI usage per customer (one, or all when customer is null), UTC day, provider and model inside
-- [window_start, window_end): whole days from the daily rollup, and the days the window cuts (before its
-- first midnight, after its last) from the hourly buckets, so figures to "now" are always live. The two
-- cut ranges are each a range of bucket_start, so DuckDB skips the row groups outside both; each is guarded by
-- its bounds alone, so a window of whole days (a closed month) folds its empty ranges away when the query is
-- planned instead of scanning the row groups around its midnights. The whole days come from the rollup's copy
-- that suits the scope (ai_days_of).
create macro ai_usage_in(customer, window_start, window_end) as table
select
    d.customer_id, d.day, d.provider, d.model, d.metered_rows, d.requests, d.input_tokens,
    d.cached_input_tokens, d.output_tokens, d.cost_usd
from ai_days_of(customer) as d
where d.day >= cast(date_trunc('day', window_start - interval 1 microsecond) + interval 1 day as date)
    and d.day < cast(date_trunc('day', window_end) as date)
union all
select
    u.customer_id, cast(u.bucket_start as date) as day, u.provider, u.model, 1 as metered_rows, u.requests,
    u.input_tokens, u.cached_input_tokens, u.output_tokens, u.cost_usd
from ai_usage as u
where (customer is null or u.customer_id = customer)
    and (
        (window_start < least(window_end, date_trunc('day', window_start - interval 1 microsecond) + interval 1 day)
            and u.bucket_start >= window_start
            and u.bucket_start < least(window_end, date_trunc('day', window_start - interval 1 microsecond)
                + interval 1 day))
        or (greatest(window_start, date_trunc('day', window_start - interval 1 microsecond) + interval 1 day,
                date_trunc('day', window_end)) < window_end
            and u.bucket_start >= greatest(window_start, date_trunc('day', window_start - interval 1 microsecond)
                + interval 1 day, date_trunc('day', window_end))
            and u.bucket_start < window_end)
    )
