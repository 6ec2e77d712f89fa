-- The (customer, provider) pairs with a provider_links row, for one customer or all when customer is null:
-- reconciliation is configured for them, so their usage is attributed to the customer.
create macro linked_providers(customer) as table
select distinct
    l.customer_id,
    l.provider
from provider_links as l
where customer is null or l.customer_id = customer
