-- Sessions were added from $day on: the runs that reach that day (and every run after them, and the new
-- sessions) are numbered again, after the runs of the same workspace that ended before it, which stay as
-- they are: a run that ended before the day cannot touch a session starting on it. _renumbered holds, per
-- workspace with a session reaching the day, where numbering starts again (cut_at: the earlier of the start
-- of its first run that reaches the day and the day itself, since a new session may start on the day before
-- that run and join it; the day when no run reaches it) and the number of runs before it (runs_before); the
-- refresh of workspace_runs and workspace_customer_sessions reads it too.
create or replace temp table _renumbered as
with reaching as (
    select distinct s.customer_id, s.workspace_id
    from workspace_sessions as s
    where coalesce(s.ended_at, timestamp 'infinity') >= $day
),

cut as (
    select r.customer_id, r.workspace_id, min(r.started_at) as cut_at, min(r.run_no) - 1 as runs_before
    from workspace_session_runs as r
    semi join (
        select distinct a.customer_id, a.workspace_id, a.run_no
        from workspace_session_runs as a
        where coalesce(a.ended_at, timestamp 'infinity') >= $day
    ) as a using (customer_id, workspace_id, run_no)
    group by all
),

ended as (
    select r.customer_id, r.workspace_id, max(r.run_no) as runs_before
    from workspace_session_runs as r
    semi join reaching using (customer_id, workspace_id)
    anti join cut using (customer_id, workspace_id)
    group by all
)

select
    w.customer_id,
    w.workspace_id,
    least(coalesce(c.cut_at, $day), $day) as cut_at,
    coalesce(c.runs_before, e.runs_before, 0) as runs_before
from reaching as w
left join cut as c using (customer_id, workspace_id)
left join ended as e using (customer_id, workspace_id);

delete from workspace_session_runs as r
using _renumbered as c
where r.customer_id = c.customer_id and r.workspace_id = c.workspace_id and r.started_at >= c.cut_at;

create or replace temp view _sessions_to_number as
select s.*
from workspace_sessions as s
join _renumbered as c using (customer_id, workspace_id)
where s.started_at >= c.cut_at;

-- numbered from 1 per workspace by session_runs: after the runs that stay
insert into workspace_session_runs
select n.* replace (n.run_no + c.runs_before as run_no)
from session_runs('_sessions_to_number') as n
join _renumbered as c using (customer_id, workspace_id)
order by n.started_at;
