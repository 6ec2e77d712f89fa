-- Every checked workspace session with the number of its run: a workspace's sessions that overlap or
-- touch form one run (a running session reaches to the end of time), numbered per customer and workspace.
-- Any window cuts a run into at most one piece, and pieces of two runs never touch, so merging the
-- sessions inside a window is a group by run_no instead of two window functions over every session.
-- reads: workspace_sessions
-- refresh from: run
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
    from workspace_sessions as s
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
order by started_at
