-- Workspace sessions with the number of their run: a workspace's sessions that overlap or touch form one
-- run (a running session reaches to the end of time), numbered from 1 per customer and workspace. sessions
-- names the table or view to number: every checked session (the rollup workspace_session_runs), or those an
-- incremental refresh numbers again (queries/refresh/workspace_session_runs.sql).
create macro session_runs(sessions) as table
with ordered as (
    select
        s.customer_id,
        s.workspace_id,
        s.template,
        s.started_at,
        s.ended_at,
        max(coalesce(s.ended_at, timestamp 'infinity')) over (
            partition by s.customer_id, s.workspace_id order by s.started_at, coalesce(s.ended_at, timestamp 'infinity')
            rows between unbounded preceding and 1 preceding
        ) as previous_end_at
    from query_table(sessions) as s
)

select
    o.customer_id,
    o.workspace_id,
    o.template,
    o.started_at,
    o.ended_at,
    sum(case when o.previous_end_at >= o.started_at then 0 else 1 end) over (
        partition by o.customer_id, o.workspace_id order by o.started_at, coalesce(o.ended_at, timestamp 'infinity')
        rows between unbounded preceding and current row
    ) as run_no
from ordered as o
