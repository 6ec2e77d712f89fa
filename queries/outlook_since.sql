-- Usage since the as_of of the billing snapshot in force, per prepaid customer (one, or all when $customer_id
-- is null), as of $now: workspace runtime by the runtime rule clipped at as_of, and the cost of linked providers'
-- AI buckets starting at or after as_of, up to $now. One row per customer whose snapshot in force is prepaid
-- (zeros when it used nothing since); none for any other. The balances estimated now are the snapshot's less
-- these. Apart from outlook (the last 7 days) because most accounts are not prepaid: one customer's figures ask
-- for it only when its billing snapshot is (the query is 15-20 ms of CPU to plan and run for nothing at 100M).
-- params: $customer_id VARCHAR, $now TIMESTAMP
-- returns: customer_id VARCHAR, runtime_hours_since DOUBLE, ai_usd_since DECIMAL
with snapshot as (
    select
        b.customer_id,
        b.as_of,
        b.billing_mode
    from billing_accounts as b
    where ($customer_id is null or b.customer_id = $customer_id)
        and b.as_of <= $now
    qualify row_number() over (partition by b.customer_id order by b.as_of desc) = 1
),

prepaid as (
    select
        s.customer_id,
        s.as_of,
        coalesce(b.runtime_us, 0) as runtime_us_before
    from snapshot as s
    left join runtime_before_snapshots as b on s.customer_id = b.customer_id and s.as_of = b.as_of
    where s.billing_mode = 'prepaid'
),

-- Runtime by the runtime rule (runs merged, cut at as_of and now), in whole microseconds so that the parts add
-- up exactly: the ended runs' whole days from the snapshot's day to yesterday from the daily rollup, less the
-- snapshot's day before as_of (runtime_before_snapshots, summed once per snapshot at ingest and carried by
-- prepaid; taken away in final: joining every ended run with the snapshots here read all 3.2M runs at 100M with
-- snapshots over a year, 42 of every customer's 87 ms of CPU); a snapshot taken today, whose day the rollup does
-- not hold, from the ended runs that reach it (from as_of up to now); today (to now, when the snapshot's day is
-- an earlier one) from the ended runs that reach it; and the runs still running (which the rollups leave out: no
-- end; workspace_running_runs) from the later of their start and as_of to now. A run is one stretch of time (its
-- sessions overlap or touch), so its piece of each part is its runtime there, and no second is in two parts.
runtime_since_rows as (
    select
        d.customer_id,
        d.runtime_us
    from workspace_runtime_daily as d
    join prepaid as p on d.customer_id = p.customer_id
    where ($customer_id is null or d.customer_id = $customer_id)
        and d.day >= cast(p.as_of as date)
        and d.day < cast($now as date)
    union all
    select
        r.customer_id,
        epoch_us(least(r.ended_at, $now)) - epoch_us(greatest(r.started_at, p.as_of)) as runtime_us
    from workspace_runs as r
    join prepaid as p on r.customer_id = p.customer_id
    where ($customer_id is null or r.customer_id = $customer_id)
        and cast(p.as_of as date) = cast($now as date)
        and r.ended_at > p.as_of
        and r.started_at < $now
    union all
    select
        r.customer_id,
        epoch_us(least(r.ended_at, $now)) - epoch_us(greatest(r.started_at, date_trunc('day', $now))) as runtime_us
    from workspace_runs as r
    join prepaid as p on r.customer_id = p.customer_id
    where ($customer_id is null or r.customer_id = $customer_id)
        and r.ended_at > date_trunc('day', $now)
        and r.started_at < $now
        and date_trunc('day', p.as_of) < date_trunc('day', $now)
    union all
    select
        r.customer_id,
        epoch_us(cast($now as timestamp)) - epoch_us(greatest(r.started_at, p.as_of)) as runtime_us
    from workspace_running_runs as r
    join prepaid as p on r.customer_id = p.customer_id
    where ($customer_id is null or r.customer_id = $customer_id)
        and r.started_at < $now
        and p.as_of < $now
),

runtime_since as (
    select
        r.customer_id,
        sum(r.runtime_us) as runtime_us
    from runtime_since_rows as r
    group by r.customer_id
),

-- The managed-AI cost since the snapshot, as whole months and days less what is not since it: the months from the
-- snapshot's own one up to the one before this, from the monthly rollup (a snapshot months back reads a few rows a
-- month instead of every day); this month's days up to today, from the daily rollup (ai_days_of: the copy that
-- suits the scope). Then, taken away: the snapshot month's buckets before as_of, summed once per snapshot at ingest
-- (ai_before_snapshots: joined here with every prepaid snapshot, the days and hourly buckets between the earliest
-- snapshot and the latest were read on every call, 1.8 s of CPU at 100M with snapshots over a year), and today's
-- buckets from now on (few: none while the exports end before now; the buckets from as_of to now were a whole day
-- of a large customer's, 31,000 rows at 100M). Each bucket from as_of up to now is counted once; any other bucket
-- of those months and days is added with them and taken away again. DuckDB bounds each scan joined with the
-- snapshots by the snapshots' own range as the join runs (its dynamic filters): bounds once written here as
-- subqueries cost planning, 2-3 ms of one customer's page, and bought nothing.
ai_since_rows as (
    select
        m.customer_id,
        m.provider,
        m.cost_usd
    from ai_provider_months as m
    join prepaid as p on m.customer_id = p.customer_id
    where ($customer_id is null or m.customer_id = $customer_id)
        and m.month_end >= last_day(cast(p.as_of as date))
        and m.month_end < date_trunc('month', $now)
    union all
    select
        d.customer_id,
        d.provider,
        d.cost_usd
    from ai_days_of($customer_id) as d
    semi join prepaid as p on d.customer_id = p.customer_id
    where d.day >= date_trunc('month', $now)
        and d.day <= cast($now as date)
    union all
    select
        a.customer_id,
        a.provider,
        -a.cost_usd as cost_usd
    from ai_before_snapshots as a
    join prepaid as p on a.customer_id = p.customer_id and a.as_of = p.as_of
    where ($customer_id is null or a.customer_id = $customer_id)
    union all
    select
        u.customer_id,
        u.provider,
        -u.cost_usd as cost_usd
    from ai_usage as u
    join prepaid as p on u.customer_id = p.customer_id
    where ($customer_id is null or u.customer_id = $customer_id)
        and u.bucket_start >= $now
        and u.bucket_start < date_trunc('day', $now) + interval 1 day
),

ai_since as (
    select
        a.customer_id,
        sum(a.cost_usd) as cost_usd
    from ai_since_rows as a
    semi join linked_providers($customer_id) as l on a.customer_id = l.customer_id and a.provider = l.provider
    group by a.customer_id
),

final as (
    select
        p.customer_id,
        cast(coalesce(rs.runtime_us, 0)
            - case when cast(p.as_of as date) < cast($now as date) then p.runtime_us_before else 0 end as double)
            / 1000000.0 / 3600.0 as runtime_hours_since,
        coalesce(a.cost_usd, 0) as ai_usd_since
    from prepaid as p
    left join runtime_since as rs on p.customer_id = rs.customer_id
    left join ai_since as a on p.customer_id = a.customer_id
)

select * from final
order by customer_id
