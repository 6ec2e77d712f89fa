-- Every (customer, provider, day) of ai_provider_days that is not matched (pending, mismatch, or missing:
-- usage with no reconciliation row), with that status: the days a customer's first open day is found among, a few percent of all,
-- so reconciliation lag reads these instead of every day of every customer. Kept by customer.
-- reads: ai_usage, reconciliation
select
    d.customer_id,
    d.provider,
    d.day,
    d.status,
    d.has_reconciliation,
    d.first_bucket_start
from ai_provider_days as d
where d.status <> 'matched'
order by d.customer_id, d.provider, d.day
