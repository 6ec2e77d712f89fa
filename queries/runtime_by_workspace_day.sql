-- Workspace runtime hours per UTC day and workspace for one customer (all customers when $customer_id
-- is null) in a period, as of $now. Sessions are clipped to [period start, min(period end, now)); a
-- running session (no ended_at, or one ending after now) counts up to now. Overlapping sessions of one
-- workspace are merged first, so no hour is counted twice; the merged runs are then split exactly at UTC
-- midnights (runtime_day_parts_in).
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, day DATE, workspace_id VARCHAR, template VARCHAR, runtime_hours DOUBLE, is_running BOOLEAN
with final as (
    select
        p.customer_id,
        p.day,
        p.workspace_id,
        p.template,
        sum(p.runtime_seconds) / 3600.0 as runtime_hours,
        bool_or(p.is_running) as is_running
    from runtime_day_parts_in($customer_id, $period_start, least($period_end, $now), $now) as p
    group by all
)

select * from final
order by customer_id, day, workspace_id, template
