-- Managed-AI usage per UTC day, provider, model and reconciliation status, summed across the customers in
-- scope (one, or all when $customer_id is null) in a period, as of $now: the operators' trend, by the
-- rules of ai_usage_by_day (linked providers only; a day's status is its customer's and provider's).
-- For all customers the whole days come from the rollup summed across customers, and only the days the
-- window cuts (before its first midnight, after its last: today up to now) are summed live, each through a
-- window of its own; for one customer every day is.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: day DATE, provider VARCHAR, model VARCHAR, reconciliation_status VARCHAR, requests BIGINT, input_tokens BIGINT, cached_input_tokens BIGINT, output_tokens BIGINT, cost_usd DECIMAL
with days as (
    select
        u.day,
        u.provider,
        u.model,
        u.reconciliation_status,
        u.requests,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.cost_usd
    from ai_usage_daily_across as u
    where $customer_id is null
        and u.day >= cast(date_trunc('day', $period_start - interval 1 microsecond) + interval 1 day as date)
        and u.day < cast(date_trunc('day', least($period_end, $now)) as date)
    union all
    select
        u.day,
        u.provider,
        u.model,
        u.reconciliation_status,
        u.requests,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.cost_usd
    from ai_linked_usage_in($customer_id, $period_start, least($period_end, $now)) as u
    where $customer_id is not null
    union all
    -- For all customers, only the cut days, each read through a window of its own: one window over the whole
    -- period would join every day's reconciliation status of the period to keep two days.
    select
        u.day,
        u.provider,
        u.model,
        u.reconciliation_status,
        u.requests,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.cost_usd
    from ai_linked_usage_in($customer_id, $period_start,
        least($period_end, $now, date_trunc('day', $period_start - interval 1 microsecond) + interval 1 day)) as u
    where $customer_id is null
    union all
    select
        u.day,
        u.provider,
        u.model,
        u.reconciliation_status,
        u.requests,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.cost_usd
    from ai_linked_usage_in($customer_id,
        greatest($period_start, date_trunc('day', $period_start - interval 1 microsecond) + interval 1 day,
            date_trunc('day', least($period_end, $now))),
        least($period_end, $now)) as u
    where $customer_id is null
),

final as (
    select
        d.day,
        d.provider,
        d.model,
        d.reconciliation_status,
        cast(sum(d.requests) as bigint) as requests,
        cast(sum(d.input_tokens) as bigint) as input_tokens,
        cast(sum(d.cached_input_tokens) as bigint) as cached_input_tokens,
        cast(sum(d.output_tokens) as bigint) as output_tokens,
        sum(d.cost_usd) as cost_usd
    from days as d
    group by all
)

select * from final
order by day, provider, model, reconciliation_status
