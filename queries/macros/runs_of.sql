-- Each run of a workspace whole, from session runs (rows of session_runs) named by session_runs: the
-- template of its earliest session (on a tie, the first by name), its start, and its end (null while a
-- session of it has no end). Sessions of no length count for nothing and are left out, as the runtime rules
-- leave them. Reads every session run (the rollup workspace_runs), or those an incremental refresh sums
-- again (queries/refresh/workspace_runs.sql).
create macro runs_of(session_runs) as table
with lasting as (
    select
        s.customer_id,
        s.workspace_id,
        s.run_no,
        s.template,
        s.started_at,
        s.ended_at
    from query_table(session_runs) as s
    where s.ended_at is null or s.ended_at > s.started_at
)

select
    l.customer_id,
    l.workspace_id,
    l.run_no,
    arg_min(l.template, (l.started_at, l.template)) as template,
    min(l.started_at) as started_at,
    case when bool_or(l.ended_at is null) then null else max(l.ended_at) end as ended_at
from lasting as l
group by l.customer_id, l.workspace_id, l.run_no
