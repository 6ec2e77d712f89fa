-- After workspace_session_runs was numbered again (_renumbered: see its refresh), the runs after each
-- workspace's runs_before are summed again from their sessions.
delete from workspace_runs as r
using _renumbered as c
where r.customer_id = c.customer_id and r.workspace_id = c.workspace_id and r.run_no > c.runs_before;

create or replace temp view _session_runs_to_sum as
select s.*
from workspace_session_runs as s
join _renumbered as c using (customer_id, workspace_id)
where s.run_no > c.runs_before;

insert into workspace_runs
select * from runs_of('_session_runs_to_sum')
order by started_at;
