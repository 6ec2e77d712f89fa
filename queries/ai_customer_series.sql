-- Managed-AI usage per UTC day and reconciliation status (matched or not) of the customers with the most of
-- one measure ($metric: cost_usd, input_tokens, cached_input_tokens, output_tokens or requests) in a period, as
-- of $now, by the rules of ai_usage_by_day (linked providers only), for a chart of at most $series series: with
-- more customers than that, the first $series - 1 by the measure (then by id) and the rest summed per day as one
-- series, whose customer_id is null and whose `others` says how many customers it holds (0 on the named
-- customers' rows). One customer ($customer_id) or all when it is null. The all-customers Managed AI page draws
-- these (split by customer) instead of fetching every customer's days, providers and models.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP, $metric VARCHAR, $series INTEGER
-- returns: day DATE, customer_id VARCHAR, reconciled BOOLEAN, requests BIGINT, input_tokens BIGINT, cached_input_tokens BIGINT, output_tokens BIGINT, cost_usd DECIMAL, others BIGINT
with usage as (
    select
        u.customer_id,
        u.day,
        u.reconciliation_status = 'matched' as reconciled,
        u.requests,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.cost_usd
    from ai_linked_usage_in($customer_id, $period_start, least($period_end, $now)) as u
),

ranked as (
    select
        u.customer_id,
        row_number() over (
            order by  -- (one order key per measure, each of its own exact type; the others are null)
                case when $metric = 'cost_usd' then sum(u.cost_usd) end desc,
                case when $metric = 'input_tokens' then sum(u.input_tokens) end desc,
                case when $metric = 'cached_input_tokens' then sum(u.cached_input_tokens) end desc,
                case when $metric = 'output_tokens' then sum(u.output_tokens) end desc,
                case when $metric = 'requests' then sum(u.requests) end desc,
                u.customer_id
        ) as rank,
        count(*) over () as customers
    from usage as u
    group by u.customer_id
),

final as (
    select
        u.day,
        case when r.customers <= $series or r.rank < $series then u.customer_id end as customer_id,
        u.reconciled,
        cast(sum(u.requests) as bigint) as requests,
        cast(sum(u.input_tokens) as bigint) as input_tokens,
        cast(sum(u.cached_input_tokens) as bigint) as cached_input_tokens,
        cast(sum(u.output_tokens) as bigint) as output_tokens,
        sum(u.cost_usd) as cost_usd,
        max(case when r.customers <= $series or r.rank < $series then 0 else r.customers - $series + 1 end)
            as others
    from usage as u
    inner join ranked as r on u.customer_id = r.customer_id
    group by all
)

select * from final
order by day, customer_id nulls last, reconciled
