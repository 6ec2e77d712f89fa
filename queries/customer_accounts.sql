-- Customer accounts: one customer id, or every customer when $customer_id is null (no row for an
-- unknown id). The latest created_at wins when an id appears twice.
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
    qualify row_number() over (partition by c.customer_id order by c.created_at desc) = 1
)

select * from final
order by customer_id
