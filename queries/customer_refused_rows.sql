-- A customer's own rows that the checks refused (one customer, or all when $customer_id is null), per
-- dataset, column and reason, with one refused value: those whose event lies in the period up to $now, or
-- whose event time cannot be read (they may belong to it); and for billing_accounts, the snapshots that
-- would be in force at $now (as of $now or earlier, newer than the kept snapshot in force): then the
-- customer's billing state is unknown. The checks' own reasons and values, never a file path.
-- params: $customer_id VARCHAR, $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, dataset VARCHAR, column VARCHAR, reason VARCHAR, value VARCHAR, rows BIGINT, newest_at TIMESTAMP
with kept_snapshot as (
    select
        b.customer_id,
        max(b.as_of) as as_of
    from billing_accounts as b
    where ($customer_id is null or b.customer_id = $customer_id)
        and b.as_of <= $now
    group by b.customer_id
),

refused as (
    select r.*
    from refused_rows as r
    left join kept_snapshot as k on r.customer_id = k.customer_id
    where ($customer_id is null or r.customer_id = $customer_id)
        and r.customer_id is not null
        and (
            r.event_at is null
            or (r.dataset = 'billing_accounts' and r.event_at <= $now and (k.as_of is null or r.event_at > k.as_of))
            or (r.dataset not in ('billing_accounts', 'customers')
                and r.event_at >= $period_start and r.event_at < least($period_end, $now))
        )
),

final as (
    select
        r.customer_id,
        r.dataset,
        r."column",
        r.reason,
        min(r.value) as value,
        count(*) as rows,
        max(r.event_at) as newest_at
    from refused as r
    group by r.customer_id, r.dataset, r."column", r.reason
)

select * from final
order by customer_id, dataset, "column", reason
