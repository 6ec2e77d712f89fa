-- The billing snapshot in force at $now per customer (one, or all when $customer_id is null): the
-- latest as_of not after now.
-- params: $customer_id VARCHAR, $now TIMESTAMP
-- returns: customer_id VARCHAR, as_of TIMESTAMP, billing_mode VARCHAR, payment_verified BOOLEAN, trial_status VARCHAR, trial_ends_at TIMESTAMP, prepaid_workspace_hours DOUBLE, prepaid_ai_usd DECIMAL
with final as (
    select
        b.customer_id,
        b.as_of,
        b.billing_mode,
        b.payment_verified,
        b.trial_status,
        b.trial_ends_at,
        b.prepaid_workspace_hours,
        b.prepaid_ai_usd
    from billing_accounts as b
    where ($customer_id is null or b.customer_id = $customer_id)
        and b.as_of <= $now
    qualify row_number() over (partition by b.customer_id order by b.as_of desc) = 1
)

select * from final
order by customer_id
