-- What reconciliation_summary sums of a period's days (ai_provider_days) per customer, provider and calendar
-- month (UTC), each month named by its last day: every customer's closed month reads one row per provider from
-- here instead of its 435,000 days at 100M. Once the month has ended every day of it counts (each has usage
-- before now, or a reconciliation row dated no later than today), so nothing here depends on now. Named by the
-- last day, so a refresh from a day on makes again the month that holds that day and every later one.
-- reads: ai_usage, reconciliation
-- refresh from: month_end
select
    d.customer_id,
    d.provider,
    last_day(d.day) as month_end,
    count(*) as usage_days,
    count(*) filter (where d.status = 'matched') as matched_days,
    count(*) filter (where d.status = 'mismatch') as mismatch_days,
    min(d.day) filter (where d.status <> 'matched') as first_open_day,
    arg_min(d.status, d.day) filter (where d.status <> 'matched') as first_open_status,
    sum(d.provider_cost_usd) as provider_cost_usd,
    sum(d.difference_usd) filter (where d.status = 'mismatch') as mismatch_usd,
    count(d.provider_cost_usd) as provider_cost_days,
    sum(d.compared_metered_usd) as compared_metered_usd,
    count(d.first_bucket_start) > 0 as has_usage
from ai_provider_days as d
group by all
order by month_end, customer_id, provider
