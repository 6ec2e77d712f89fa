-- After workspace_runs was summed again (see the refresh of workspace_session_runs), the months from the
-- first one the new sessions change are made again. Sessions were added from $day on, so a month before
-- $day's holds the same pieces: a run a new session joins reaches $day, and its pieces in earlier months are
-- cut at their edges from the same sessions (the same runtime, template and latest end). The one exception is
-- a run still running, carried to the month of the newest session start: new sessions move that month on,
-- so every month after the one of the newest start before $day is made again too (months between it and
-- $day's hold no session start, old or new).
create or replace temp table _runtime_months_from as
select least(
    date_trunc('month', cast($day as timestamp)),
    (select date_trunc('month', max(s.started_at)) + interval 1 month
     from workspace_session_runs as s
     where s.started_at < cast($day as timestamp))
) as month_start;

delete from workspace_runtime_months as m
where m.month_end >= (select cast(f.month_start as date) from _runtime_months_from as f);

insert into workspace_runtime_months
select *
from runtime_months_of('workspace_runs', 'workspace_session_runs',
    (select f.month_start from _runtime_months_from as f))
order by month_end, customer_id, workspace_id, day, template;
