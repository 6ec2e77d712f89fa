-- Customer accounts: one customer id, or every customer when $customer_id is null (no row for an
-- unknown id). An id is on one row only: the check refuses a second row with the same customer_id.
-- params: $customer_id VARCHAR
-- returns: customer_id VARCHAR, customer_name VARCHAR, created_at TIMESTAMP, account_status VARCHAR
with final as (
    select
        c.customer_id,
        c.customer_name,
        c.created_at,
        c.account_status
    from customers as c
    where $customer_id is null or c.customer_id = $customer_id
)

select * from final
order by customer_id
