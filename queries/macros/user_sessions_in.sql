-- Each user's workspace sessions with some length inside [window_start, window_end) as of as_of, per customer
-- (one, or all when customer is null), cut to the window: a running session (no ended_at, or one ending after
-- as_of) counts up to as_of and is marked running; a session of no length in the window is left out. The one
-- rule runtime_by_user adds users' hours by and runtime_active_users counts users by, so the users counted are
-- always the users listed. previous_end_at: the latest end of the same user's earlier sessions on the workspace
-- (workspace_user_sessions), cut to the window the same way (null for the first).
create macro user_sessions_in(customer, window_start, window_end, as_of) as table
with sessions as (
    select
        s.customer_id,
        s.workspace_id,
        s.user_id,
        s.started_at,
        s.ended_at,
        s.previous_end_at
    from workspace_user_sessions as s
    where (customer is null or s.customer_id = customer)
        and s.started_at < least(window_end, as_of)
        and (s.ended_at is null or s.ended_at > window_start)
),

cut as (
    select
        s.customer_id,
        s.workspace_id,
        s.user_id,
        greatest(s.started_at, window_start) as start_at,
        least(coalesce(s.ended_at, timestamp 'infinity'), window_end, as_of) as end_at,
        s.ended_at is null or s.ended_at > as_of as is_running,
        case when s.previous_end_at is not null then least(s.previous_end_at, window_end, as_of) end
            as previous_end_at  -- (least skips a null: the first session has no earlier end)
    from sessions as s
)

select * from cut
where end_at > start_at
