-- The customer account of one customer id (no row when it does not exist).
-- params: $customer_id VARCHAR
-- returns: customer_id VARCHAR, customer_name VARCHAR, created_at TIMESTAMP, account_status VARCHAR
with final as (
    select
        c.customer_id,
        c.customer_name,
        c.created_at,
        c.account_status
    from customers as c
    where c.customer_id = $customer_id
    qualify row_number() over (order by c.created_at desc) = 1
)

select * from final
