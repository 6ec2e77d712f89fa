-- Provider links with their provider project IDs, for operators only (support needs them; customer scope
-- never shows them): one customer, or every customer when $customer_id is null.
-- params: $customer_id VARCHAR
-- returns: customer_id VARCHAR, provider VARCHAR, provider_project_id VARCHAR, linked_at TIMESTAMP
with final as (
    select
        l.customer_id,
        l.provider,
        l.provider_project_id,
        l.linked_at
    from provider_links as l
    where ($customer_id is null or l.customer_id = $customer_id)
)

select * from final
order by customer_id, provider, linked_at
