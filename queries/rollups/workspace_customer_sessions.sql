-- workspace_session_runs again, kept by customer and start: one customer's sessions in a window then sit in
-- one or two row groups. workspace_session_runs is kept in start order, which a window of every customer
-- needs, and spreads one customer's month over every row group of that month (4 of 41 at 100M rows: 473,000
-- rows read for 36 sessions, 7.4 -> 3.5 ms; the largest customer's 46,000: 12.8 -> 7.8 ms).
-- runtime_runs_in reads it for one customer.
-- reads: workspace_sessions
-- refresh from: run
select
    s.customer_id,
    s.workspace_id,
    s.template,
    s.started_at,
    s.ended_at,
    s.run_no
from workspace_session_runs as s
order by s.customer_id, s.started_at
