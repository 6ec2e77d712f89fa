-- Managed-AI usage per customer, provider and calendar month (UTC), each month named by its last day: the look
-- ahead sums the whole months since a prepaid snapshot from here instead of from every day of them (a snapshot
-- a year back read all 2.8M rows of ai_usage_daily at 100M for the outlook of every customer, a third of the
-- operators' month), and every customer's usage in a closed month (ai_usage_by_provider) is one month's rows
-- here instead of its days' (a month at 100M: 15,000 rows instead of 226,000). Named by the last day, so a
-- refresh from a day on makes again the month that holds that day (its last day is on or after it) and every
-- later one, each from all of its days.
-- reads: ai_usage
-- refresh from: month_end
select
    d.customer_id,
    d.provider,
    last_day(d.day) as month_end,
    sum(d.requests) as requests,
    sum(d.input_tokens) as input_tokens,
    sum(d.cached_input_tokens) as cached_input_tokens,
    sum(d.output_tokens) as output_tokens,
    sum(d.cost_usd) as cost_usd
from ai_usage_daily as d
group by all
order by month_end, customer_id, provider
