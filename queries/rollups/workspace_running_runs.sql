-- The runs of workspace_runs still running (a session with no end), kept by customer: the look ahead counts them
-- live up to now (the daily rollup leaves them out), and one customer's were read from workspace_runs, kept in
-- start order, where the row groups holding any run without an end are a month of runs (656,954 rows at 100M, about
-- 1.3 ms of CPU per query and customer, for the 2,456 running runs of every customer). Made whole whenever the
-- sessions change: a refresh numbers runs again, and a run that ran on can be ended by a late session.
-- reads: workspace_sessions
select r.*
from workspace_runs as r
where r.ended_at is null
order by r.customer_id, r.started_at
