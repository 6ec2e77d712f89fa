-- Sessions were added from $day on: the sessions that start on or after it get their previous end again. A
-- session's previous end is the latest end of the same user's earlier sessions on the workspace: of those that
-- start before the day (kept as they were: their own previous ends read only earlier sessions), their latest end
-- per user and workspace, and of those from the day on, a window over them alone. So a refresh groups the rows
-- before the day instead of sorting every session again (the rollup's own select over 5M sessions at 100M).
delete from workspace_user_sessions as s
where s.started_at >= $day;

insert into workspace_user_sessions
with added as (
    select
        s.customer_id,
        s.workspace_id,
        s.user_id,
        s.started_at,
        s.ended_at
    from workspace_sessions as s
    where s.started_at >= $day
),

earlier as (
    select
        u.customer_id,
        u.workspace_id,
        u.user_id,
        max(coalesce(u.ended_at, timestamp 'infinity')) as end_at
    from workspace_user_sessions as u
    semi join added as a using (customer_id, workspace_id, user_id)
    group by u.customer_id, u.workspace_id, u.user_id
)

-- (greatest skips a null: a user's first sessions on a workspace have no earlier end on one side or both)
select
    a.customer_id,
    a.workspace_id,
    a.user_id,
    a.started_at,
    a.ended_at,
    greatest(e.end_at, max(coalesce(a.ended_at, timestamp 'infinity')) over (
        partition by a.customer_id, a.workspace_id, a.user_id order by a.started_at, a.ended_at
        rows between unbounded preceding and 1 preceding
    )) as previous_end_at
from added as a
left join earlier as e using (customer_id, workspace_id, user_id)
order by a.customer_id, a.started_at;
