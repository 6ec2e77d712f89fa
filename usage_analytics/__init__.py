"""Usage & Billing Analytics: the core (data contract, queries, rules, handoff)."""
