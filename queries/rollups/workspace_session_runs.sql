-- Every checked workspace session with the number of its run (session_runs): any window cuts a run into at
-- most one piece, and pieces of two runs never touch, so merging the sessions inside a window is a group by
-- run_no instead of two window functions over every session. Kept in start order.
-- reads: workspace_sessions
-- refresh from: run
select * from session_runs('workspace_sessions')
order by started_at
