-- Workspace runtime hours per user of one customer (all customers when $customer_id is null) in a period, as
-- of $now. Sessions are clipped to [period start, min(period end, now)) as runtime_by_workspace_day clips
-- them; a running session (no ended_at, or one ending after now) counts up to now and marks its user as
-- running; a session of no length in the window counts for nothing. A user's sessions on one workspace that
-- overlap or touch are merged first (gaps and islands per customer, workspace and user), so no second is
-- counted twice for that user; two users on one workspace each count their own hours, so users' hours can add
-- up to more than the workspaces' runtime. workspaces: the workspaces where the user has runtime in the window.
-- Reads the checked sessions, not the workspace runs (those merge every user of a workspace); the table is kept
-- by customer and start, so one customer's window is a few row groups (10M sessions: 10 ms for one customer,
-- the same as a branch per scope as runtime_runs_in has; 560 ms for every customer).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, user_id VARCHAR, runtime_hours DOUBLE, workspaces BIGINT, is_running BOOLEAN
with sessions as (
    select
        s.customer_id,
        s.workspace_id,
        s.user_id,
        s.started_at,
        s.ended_at
    from workspace_sessions as s
    where ($customer_id is null or s.customer_id = $customer_id)
        and s.started_at < least($period_end, $now)
        and (s.ended_at is null or s.ended_at > $period_start)
),

cut as (
    select
        s.customer_id,
        s.workspace_id,
        s.user_id,
        greatest(s.started_at, $period_start) as start_at,
        least(coalesce(s.ended_at, timestamp 'infinity'), $period_end, $now) as end_at,
        s.ended_at is null or s.ended_at > $now as is_running
    from sessions as s
),

ordered as (
    select
        c.customer_id,
        c.workspace_id,
        c.user_id,
        c.start_at,
        c.end_at,
        c.is_running,
        max(c.end_at) over (
            partition by c.customer_id, c.workspace_id, c.user_id order by c.start_at, c.end_at
            rows between unbounded preceding and 1 preceding
        ) as previous_end_at
    from cut as c
    where c.end_at > c.start_at
),

numbered as (
    select
        o.customer_id,
        o.workspace_id,
        o.user_id,
        o.start_at,
        o.end_at,
        o.is_running,
        sum(case when o.previous_end_at >= o.start_at then 0 else 1 end) over (
            partition by o.customer_id, o.workspace_id, o.user_id order by o.start_at, o.end_at
            rows between unbounded preceding and current row
        ) as run_no
    from ordered as o
),

runs as (
    select
        n.customer_id,
        n.workspace_id,
        n.user_id,
        min(n.start_at) as start_at,
        max(n.end_at) as end_at,
        bool_or(n.is_running) as is_running
    from numbered as n
    group by n.customer_id, n.workspace_id, n.user_id, n.run_no
),

final as (
    select
        r.customer_id,
        r.user_id,
        sum(epoch(r.end_at - r.start_at)) / 3600.0 as runtime_hours,
        count(distinct r.workspace_id) as workspaces,
        bool_or(r.is_running) as is_running
    from runs as r
    group by r.customer_id, r.user_id
)

select * from final
order by customer_id, runtime_hours desc, user_id
