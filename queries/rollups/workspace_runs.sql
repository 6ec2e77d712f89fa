-- Every run of a workspace whole (runs_of over workspace_session_runs). A window that holds a run whole takes
-- it from here; only the few runs an edge of the window cuts are merged again from their sessions
-- (runtime_runs_in). Kept in start order, like the sessions.
-- reads: workspace_sessions
-- refresh from: run
select * from runs_of('workspace_session_runs')
order by started_at
