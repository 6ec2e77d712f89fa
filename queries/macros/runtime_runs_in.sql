-- Workspace runs inside [window_start, window_end) as of as_of, per customer (one, or all when customer is
-- null): the sessions of one run (workspace_session_runs) merged, so no second is counted twice, and cut to
-- the window; a running session (no ended_at, or one ending after as_of) counts up to the window end. A
-- run takes the template of its earliest session in the window (on a tie, the one that started first, then
-- the first by name). For all customers, runs the window holds whole come as they are from workspace_runs,
-- and only the sessions of runs an edge cuts are merged here: a few thousand runs at 5,000 customers
-- instead of every one. One customer's sessions are all merged here, read from the copy kept by customer
-- (workspace_customer_sessions); whether customer is null picks one branch when the query is planned.
create macro runtime_runs_in(customer, window_start, window_end, as_of) as table
with runs as (
    select
        r.customer_id,
        r.workspace_id,
        r.run_no,
        r.template,
        r.started_at,
        r.ended_at,
        coalesce(r.started_at >= window_start and r.ended_at <= window_end, false) as is_whole
    from workspace_runs as r
    where customer is null
        and r.started_at < window_end
        and (r.ended_at is null or r.ended_at > window_start)
),

sessions as (
    select
        s.customer_id,
        s.workspace_id,
        s.run_no,
        s.template,
        s.started_at,
        s.ended_at
    from workspace_session_runs as s
    where customer is null
        and s.started_at < window_end
        and (s.ended_at is null or s.ended_at > window_start)
        and (s.customer_id, s.workspace_id, s.run_no) in (
            select (r.customer_id, r.workspace_id, r.run_no) from runs as r where not r.is_whole)
    union all
    select
        s.customer_id,
        s.workspace_id,
        s.run_no,
        s.template,
        s.started_at,
        s.ended_at
    from workspace_customer_sessions as s
    where s.customer_id = customer
        and s.started_at < window_end
        and (s.ended_at is null or s.ended_at > window_start)
),

cut as (
    select
        s.customer_id,
        s.workspace_id,
        s.run_no,
        s.template,
        s.started_at,
        greatest(s.started_at, window_start) as start_at,
        least(coalesce(s.ended_at, window_end), window_end) as end_at,
        s.ended_at is null or s.ended_at > as_of as is_running
    from sessions as s
),

final as (
    select
        r.customer_id,
        r.workspace_id,
        r.template,
        r.started_at as start_at,
        r.ended_at as end_at,
        r.ended_at > as_of as is_running
    from runs as r
    where r.is_whole
    union all
    select
        c.customer_id,
        c.workspace_id,
        arg_min(c.template, (c.started_at, c.template)) as template,
        min(c.start_at) as start_at,
        max(c.end_at) as end_at,
        bool_or(c.is_running) as is_running
    from cut as c
    where c.end_at > c.start_at
    group by c.customer_id, c.workspace_id, c.run_no
)

select * from final
