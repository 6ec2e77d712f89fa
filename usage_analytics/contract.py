"""The parquet data contract of SPEC §4: datasets, their columns, kinds and allowed values."""
from __future__ import annotations

from dataclasses import dataclass

# A column's kind says how the data layer reads it and how the sample writer writes it.
KINDS = ("text", "timestamp", "date", "bool", "int", "double", "money")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    nullable: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum column; empty means any


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _dataset(name: str, description: str, *columns: Column) -> Dataset:
    for column in columns:
        assert column.kind in KINDS, column
    return Dataset(name, description, columns)


ACCOUNT_STATUSES = ("active", "onboarding", "suspended")
BILLING_MODES = ("paid", "trial", "prepaid", "none")
TRIAL_STATUSES = ("approved", "pending", "expired")
RECONCILIATION_STATUSES = ("matched", "pending", "mismatch")

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        _dataset(
            "customers", "a customer account",
            Column("customer_id", "text"),
            Column("customer_name", "text"),
            Column("created_at", "timestamp"),
            Column("account_status", "text", values=ACCOUNT_STATUSES),
        ),
        _dataset(
            "billing_accounts", "a billing snapshot; the latest as_of per customer wins",
            Column("customer_id", "text"),
            Column("as_of", "timestamp"),
            Column("billing_mode", "text", values=BILLING_MODES),
            Column("payment_verified", "bool"),
            Column("trial_status", "text", nullable=True, values=TRIAL_STATUSES),
            Column("trial_ends_at", "timestamp", nullable=True),
            Column("prepaid_workspace_hours", "double", nullable=True),
            Column("prepaid_ai_usd", "money", nullable=True),
        ),
        _dataset(
            "workspace_sessions", "one run of one workspace",
            Column("customer_id", "text"),
            Column("workspace_id", "text"),
            Column("user_id", "text"),
            Column("template", "text"),
            Column("started_at", "timestamp"),
            Column("ended_at", "timestamp", nullable=True),
        ),
        _dataset(
            "ai_usage", "platform-metered usage of one model in one hour bucket",
            Column("customer_id", "text"),
            Column("bucket_start", "timestamp"),
            Column("provider", "text"),
            Column("model", "text"),
            Column("provider_project_id", "text"),
            Column("requests", "int"),
            Column("input_tokens", "int"),
            Column("cached_input_tokens", "int"),
            Column("output_tokens", "int"),
            Column("cost_usd", "money"),
        ),
        _dataset(
            "provider_links", "reconciliation configured for a customer and provider",
            Column("customer_id", "text"),
            Column("provider", "text"),
            Column("provider_project_id", "text"),
            Column("linked_at", "timestamp"),
        ),
        _dataset(
            "reconciliation", "the result of matching one customer, provider and day",
            Column("customer_id", "text"),
            Column("provider", "text"),
            Column("usage_date", "date"),
            Column("status", "text", values=RECONCILIATION_STATUSES),
            Column("metered_cost_usd", "money"),
            Column("provider_cost_usd", "money", nullable=True),
            Column("reconciled_at", "timestamp", nullable=True),
        ),
    )
}
