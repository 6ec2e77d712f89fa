-- Users with workspace runtime in a period, per customer (one, or every customer when $customer_id is null), as
-- of $now: a user counts when any of their sessions, clipped as runtime_by_user clips them (to [period start,
-- min(period end, now)), a running one up to now), keeps some length. These are the users runtime_by_user lists,
-- counted without merging their sessions into runs first: a count needs no hours (the Overview's active users;
-- 5,000 customers' users listed cost it ten times this count at 100M rows). A customer without such a user has no row.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, active_users BIGINT
with sessions as (
    select
        s.customer_id,
        s.user_id
    from workspace_sessions as s
    where ($customer_id is null or s.customer_id = $customer_id)
        and s.started_at < least($period_end, $now)
        and (s.ended_at is null or s.ended_at > $period_start)
        and least(coalesce(s.ended_at, timestamp 'infinity'), $period_end, $now)
            > greatest(s.started_at, $period_start)
),

final as (
    select
        s.customer_id,
        count(distinct s.user_id) as active_users
    from sessions as s
    group by s.customer_id
)

select * from final
order by customer_id
