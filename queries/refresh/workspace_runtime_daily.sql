-- After workspace_runs was summed again (_renumbered: see the refresh of workspace_session_runs), the days
-- from the first one a run summed again can reach are split and summed again, for every customer: from the
-- earlier of $day and the start of the first run numbered again. Each workspace's runs numbered again start
-- at or after its cut_at, so every day before that holds only pieces of runs that stayed as they were
-- (a run that was ended and now runs on, being joined by a running session, leaves those days too).
create or replace temp table _runtime_days_from as
select least(cast($day as date), cast(min(c.cut_at) as date)) as day
from _renumbered as c;

delete from workspace_runtime_daily as d
where d.day >= (select f.day from _runtime_days_from as f);

insert into workspace_runtime_daily
with day_parts as (
    select
        r.customer_id,
        r.started_at,
        r.ended_at,
        unnest(range(greatest(date_trunc('day', r.started_at), f.day), r.ended_at, interval 1 day)) as day_start_at
    from workspace_runs as r, _runtime_days_from as f
    where r.ended_at is not null
        and r.ended_at > f.day
)

select
    p.customer_id,
    cast(p.day_start_at as date) as day,
    cast(sum(epoch_us(least(p.ended_at, p.day_start_at + interval 1 day))
        - epoch_us(greatest(p.started_at, p.day_start_at))) as bigint) as runtime_us
from day_parts as p
group by all
order by customer_id, day;
