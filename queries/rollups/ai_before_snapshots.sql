-- Per prepaid billing snapshot (customer and as_of) and provider: the managed-AI cost of that customer's hourly
-- buckets in the snapshot's own calendar month before as_of. The usage since a snapshot (outlook_since) counts
-- the snapshot's month whole (from the monthly or the daily rollup) and takes these away, read here instead of
-- joining the days and buckets with every prepaid snapshot in force on each call: with snapshots taken over a
-- year, that join read every day and hourly bucket between the earliest snapshot and the latest (92.6M buckets at
-- 100M: 1.8 s of CPU for every customer's look ahead). A snapshot taken at the start of its month has no such
-- bucket and no row. Nothing here depends on now (a snapshot in force is at or before now, so every bucket before
-- it is too). Named by the snapshot's day, so a refresh from a day on makes again the snapshots of that day and
-- later, the only ones new buckets or snapshots can change (a bucket counts for a snapshot after it only).
-- reads: ai_usage, billing_accounts
-- refresh from: day
select
    b.customer_id,
    cast(b.as_of as date) as day,
    b.as_of,
    u.provider,
    sum(u.cost_usd) as cost_usd
from (
    select distinct s.customer_id, s.as_of
    from billing_accounts as s
    where s.billing_mode = 'prepaid'
        and s.as_of > date_trunc('month', s.as_of)
) as b
join ai_usage as u
    on u.customer_id = b.customer_id
    and u.bucket_start >= date_trunc('month', b.as_of)
    and u.bucket_start < b.as_of
group by all
order by day, customer_id, as_of, provider
