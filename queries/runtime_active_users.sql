-- Users with workspace runtime in a period, per customer (one, or every customer when $customer_id is null), as
-- of $now: a user counts when any of their sessions keeps some length cut to [period start, min(period end,
-- now)) (user_sessions_in, the rule runtime_by_user adds hours by). These are the users runtime_by_user lists,
-- counted without adding up their hours: a count needs none (the Overview's active users; 5,000 customers'
-- users listed cost it ten times this count at 100M rows). A customer without such a user has no row.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, active_users BIGINT
with final as (
    select
        s.customer_id,
        count(distinct s.user_id) as active_users
    from user_sessions_in($customer_id, $period_start, $period_end, $now) as s
    group by s.customer_id
)

select * from final
order by customer_id
