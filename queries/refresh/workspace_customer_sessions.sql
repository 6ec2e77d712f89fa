-- After workspace_session_runs was numbered again (_renumbered: see its refresh), the copy kept by customer
-- takes the session runs after each workspace's runs_before again. (The column list is the rollup's own:
-- this copies the same columns.)
delete from workspace_customer_sessions as r
using _renumbered as c
where r.customer_id = c.customer_id and r.workspace_id = c.workspace_id and r.run_no > c.runs_before;

insert into workspace_customer_sessions
select
    s.customer_id,
    s.workspace_id,
    s.template,
    s.started_at,
    s.ended_at,
    s.run_no
from workspace_session_runs as s
join _renumbered as c using (customer_id, workspace_id)
where s.run_no > c.runs_before
order by s.customer_id, s.started_at;
