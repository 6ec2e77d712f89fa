-- Workspace runtime per calendar month (runtime_months_of over every month): every customer's runtime in a
-- closed month (runtime_totals) reads a few tens of thousands of rows from here instead of splitting every run
-- and session of it (every customer's October at 100M: 103 -> 9 ms of CPU). Rows per customer and workspace,
-- and per day and template. Nothing here depends on now: a store made from an earlier day's copy stays right.
-- reads: workspace_sessions
-- refresh from: run
select * from runtime_months_of('workspace_runs', 'workspace_session_runs', timestamp '1970-01-01')
order by month_end, customer_id, workspace_id, day, template
