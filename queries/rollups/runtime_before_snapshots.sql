-- Per prepaid billing snapshot (customer and as_of): the workspace runtime of that customer's ended runs on the
-- snapshot's own UTC day before as_of, in whole microseconds (the runtime rule's pieces, as workspace_runtime_daily
-- splits the runs at midnights). The usage since a snapshot (outlook_since) reads the snapshot's day whole from
-- that daily rollup and takes this away, instead of joining every ended run with every prepaid snapshot in force
-- on each call: with snapshots taken over a year, that join read all 3.2M runs at 100M (42 ms of CPU of every
-- customer's look ahead, 87). A snapshot at a midnight has no such runtime and no row. Nothing here depends on
-- now (a snapshot in force is at or before now, so the part of its day before it is too); runs still running
-- are counted live by the query, as the daily rollup leaves them out too. Made whole whenever the sessions or the
-- snapshots change: new sessions can join runs of any earlier day, and it is small (one row per such snapshot,
-- made from one join).
-- reads: workspace_sessions, billing_accounts
with snapshots as (
    select distinct
        s.customer_id,
        s.as_of
    from billing_accounts as s
    where s.billing_mode = 'prepaid'
        and s.as_of > date_trunc('day', s.as_of)
)

select
    p.customer_id,
    p.as_of,
    cast(sum(epoch_us(least(r.ended_at, p.as_of)) - epoch_us(greatest(r.started_at, date_trunc('day', p.as_of))))
        as bigint) as runtime_us
from snapshots as p
join workspace_runs as r
    on r.customer_id = p.customer_id
    and r.started_at < p.as_of
    and r.ended_at > date_trunc('day', p.as_of)
group by all
order by customer_id, as_of
