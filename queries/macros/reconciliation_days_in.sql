-- Reconciliation per customer (one, or all when customer is null), linked provider and day with a row, for
-- the days of [period_start, period_end) up to now: the day's status (reconciliation_day_status), the metered
-- cost it was compared with, the provider's cost (null when no row has one), the metered cost of the rows that
-- have a provider cost, and their difference (provider minus metered, over rows with both). The per-day rows
-- of the Reconciliation page and the per-provider amounts of a pack both read this.
create macro reconciliation_days_in(customer, period_start, period_end, now) as table
select
    r.customer_id,
    r.provider,
    r.usage_date as day,
    reconciliation_day_status(r.status) as status,
    sum(r.metered_cost_usd) as metered_cost_usd,
    sum(r.provider_cost_usd) as provider_cost_usd,
    sum(r.metered_cost_usd) filter (where r.provider_cost_usd is not null) as compared_metered_usd,
    sum(r.provider_cost_usd - r.metered_cost_usd) as difference_usd
from reconciliation as r
semi join linked_providers(customer) as l on r.customer_id = l.customer_id and r.provider = l.provider
where (customer is null or r.customer_id = customer)
    and r.usage_date >= cast(period_start as date)
    and r.usage_date < cast(period_end as date)
    and cast(r.usage_date as timestamp) < now
group by r.customer_id, r.provider, r.usage_date
