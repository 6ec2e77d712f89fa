"""The parquet data contract of docs/product.md §5: datasets, their columns, kinds and allowed values."""
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
    non_negative: bool = False  # counts and costs
    event: bool = False  # when something happened: may not lie in the future (beyond a day's clock skew)
    hourly: bool = False  # the start of an hour bucket, so on the hour (the duplicate check groups by its day)


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # a second row with the same key is a duplicate; empty: the whole row

    @property
    def key_columns(self) -> tuple[str, ...]:
        return self.key or self.column_names

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _dataset(name: str, description: str, *columns: Column, key: tuple[str, ...] = ()) -> Dataset:
    for column in columns:
        assert column.kind in KINDS, column
    assert set(key) <= {c.name for c in columns}, key
    return Dataset(name, description, columns, key)


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
            Column("created_at", "timestamp", event=True),
            Column("account_status", "text", values=ACCOUNT_STATUSES),
            key=("customer_id",),
        ),
        _dataset(
            "billing_accounts", "a billing snapshot; the latest as_of per customer wins",
            Column("customer_id", "text"),
            Column("as_of", "timestamp", event=True),
            Column("billing_mode", "text", values=BILLING_MODES),
            Column("payment_verified", "bool"),
            Column("trial_status", "text", nullable=True, values=TRIAL_STATUSES),
            Column("trial_ends_at", "timestamp", nullable=True),
            Column("prepaid_workspace_hours", "double", nullable=True),
            Column("prepaid_ai_usd", "money", nullable=True),
            key=("customer_id", "as_of"),
        ),
        _dataset(
            "workspace_sessions", "one run of one workspace",
            Column("customer_id", "text"),
            Column("workspace_id", "text"),
            Column("user_id", "text"),
            Column("template", "text"),
            Column("started_at", "timestamp", event=True),
            Column("ended_at", "timestamp", nullable=True),
        ),  # overlapping runs of a workspace are merged by the runtime rule; only copies are duplicates
        _dataset(
            "ai_usage", "platform-metered usage of one model in one hour bucket",
            Column("customer_id", "text"),
            Column("bucket_start", "timestamp", event=True, hourly=True),
            Column("provider", "text"),
            Column("model", "text"),
            Column("provider_project_id", "text"),
            Column("requests", "int", non_negative=True),
            Column("input_tokens", "int", non_negative=True),
            Column("cached_input_tokens", "int", non_negative=True),
            Column("output_tokens", "int", non_negative=True),
            Column("cost_usd", "money", non_negative=True),
            key=("customer_id", "bucket_start", "provider", "model", "provider_project_id"),
        ),
        _dataset(
            "provider_links", "reconciliation configured for a customer and provider",
            Column("customer_id", "text"),
            Column("provider", "text"),
            Column("provider_project_id", "text"),
            Column("linked_at", "timestamp", event=True),
            key=("customer_id", "provider", "provider_project_id"),
        ),
        _dataset(
            "reconciliation", "the result of matching one customer, provider and day",
            Column("customer_id", "text"),
            Column("provider", "text"),
            Column("usage_date", "date", event=True),
            Column("status", "text", values=RECONCILIATION_STATUSES),
            Column("metered_cost_usd", "money", non_negative=True),
            Column("provider_cost_usd", "money", nullable=True, non_negative=True),
            Column("reconciled_at", "timestamp", nullable=True, event=True),
        ),  # several rows for one customer, provider and day are allowed (all must match); only copies are duplicates
    )
}


# Column names that look like content or credentials (docs/product.md §5): flagged, and never read.
FORBIDDEN_WORDS = ("prompt", "response", "completion", "messages", "transcript", "payload", "api_key", "apikey",
                   "secret", "token", "cookie", "authorization", "password")
TOKEN_COUNTS = ("input_tokens", "cached_input_tokens", "output_tokens")
USAGE_COUNTS = ("requests", *TOKEN_COUNTS)  # the counts summed beside cost per provider and model


def forbidden(column: str) -> bool:
    """Whether an export column's name looks like something never to be shown, exported or logged."""
    name = column.lower()
    if name in TOKEN_COUNTS:
        return False
    return any(word in name for word in FORBIDDEN_WORDS)
