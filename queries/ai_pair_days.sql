-- Managed-AI usage per customer, linked provider and UTC day of a few customers ($customer_ids) in a period, as
-- of $now, by the rules of ai_usage_by_day: the day's reconciliation status and metered cost (every model
-- summed). The all-customers Reconciliation page draws the calendar of the customer-provider pairs it lists
-- first from these, instead of fetching every customer's days to keep forty pairs.
-- params: $customer_ids VARCHAR[], $period_start TIMESTAMP, $period_end TIMESTAMP, $now TIMESTAMP
-- returns: customer_id VARCHAR, provider VARCHAR, day DATE, reconciliation_status VARCHAR, cost_usd DECIMAL
with final as (
    select
        u.customer_id,
        u.provider,
        u.day,
        any_value(u.reconciliation_status) as reconciliation_status,
        sum(u.cost_usd) as cost_usd
    from ai_linked_usage_in(null, $period_start, least($period_end, $now)) as u
    where list_contains($customer_ids, u.customer_id)
    group by u.customer_id, u.provider, u.day
)

select * from final
order by customer_id, provider, day
