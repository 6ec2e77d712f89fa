"""A deterministic generator of realistic exports in the data contract; also writes test fixtures."""
from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .config import SAMPLE_MANIFEST
from .contract import DATASETS

_ARROW = {
    "text": pa.string(), "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32(), "bool": pa.bool_(),
    "int": pa.int64(), "double": pa.float64(), "money": pa.decimal128(18, 6),
}
UTC = timezone.utc
MICRO = Decimal("0.000001")

# provider -> model -> (USD per 1M input, per 1M cached input, per 1M output tokens)
MODELS = {
    "openai": {"gpt-4.1": (2.00, 0.50, 8.00), "gpt-4.1-mini": (0.40, 0.10, 1.60), "o4-mini": (1.10, 0.275, 4.40)},
    "anthropic": {"claude-sonnet-4": (3.00, 0.30, 15.00), "claude-haiku-4": (0.80, 0.08, 4.00),
                  "claude-opus-4": (15.00, 1.50, 75.00)},
    "google": {"gemini-2.5-pro": (1.25, 0.31, 10.00), "gemini-2.5-flash": (0.30, 0.075, 2.50)},
}
TEMPLATES, TEMPLATE_WEIGHTS = ("standard", "large", "gpu"), (0.6, 0.3, 0.1)
TRIALS = {  # profile variant -> (trial_status, trial end in days from now; None: no end date)
    "approved": ("approved", 12), "open_ended": ("approved", None), "pending": ("pending", None),
    "expired": ("expired", -9), "ended": ("approved", -2),
}
PREPAID = {  # profile variant -> (workspace hours, AI USD)
    "healthy": (480.0, "2500"), "low": (3.5, "4.2"), "empty": (0.0, "0"),
    "empty_hours": (0.0, "850"), "empty_ai": (120.0, "0"),
}

NAMES = (
    "Acme Robotics", "Northwind Traders", "Globex Systems", "Initech Labs", "Umbrella Analytics",
    "Stark Fabrication", "Wayne Logistics", "Hooli Cloud", "Pied Piper", "Vandelay Imports",
    "Soylent Foods", "Tyrell Genetics", "Cyberdyne Research", "Wonka Confections", "Oscorp Materials",
    "Massive Dynamic", "Aperture Science", "Black Mesa Physics", "Gringotts Ledger", "Monarch Aviation",
    "Blue Sun Media", "Nakatomi Trading", "Dunder Paper", "Sterling Cooper", "Prestige Worldwide",
    "Bluth Development", "Los Pollos Supply", "Wernham Hogg", "Rekall Memories", "Encom Software",
    "Zorg Industries", "Weyland Freight", "Virtucon Energy", "Gekko Capital", "Ollivander Woodworks",
    "Krusty Kitchens", "Duff Brewing", "Spacely Sprockets", "Cogswell Cogs", "Planet Express",
)


@dataclass(frozen=True)
class Profile:
    """One customer's scripted situation; the table below covers every branch of the rules."""
    status: str = "active"
    billing: str = "paid"  # paid | paid_unverified | trial_<TRIALS key> | prepaid_<PREPAID key> | none | missing
    size: int = 8  # workspaces
    providers: tuple[str, ...] = ("openai", "anthropic", "google")
    recon: str = "normal"  # normal | current | mismatch | stale | gaps
    age_days: int = 400  # customer age at now


PROFILES = (
    Profile(size=25, recon="mismatch"), Profile(size=18), Profile(billing="prepaid_healthy", size=12),
    Profile(billing="trial_approved", size=4, providers=("openai",)), Profile(size=14, recon="stale"),
    Profile(billing="paid_unverified", size=3, age_days=20), Profile(billing="trial_pending", size=2, age_days=12),
    Profile(billing="prepaid_low", size=6, recon="current"), Profile(billing="prepaid_empty_hours", size=5),
    Profile(status="onboarding", billing="missing", size=1, providers=(), age_days=5),
    Profile(size=10, providers=("openai", "anthropic")), Profile(billing="trial_expired", size=3, age_days=70),
    Profile(status="suspended", size=6), Profile(billing="prepaid_empty_ai", size=4, recon="gaps"),
    Profile(billing="trial_open_ended", size=3, providers=("anthropic",)), Profile(billing="none", size=2),
    Profile(size=9, recon="current"), Profile(billing="trial_ended", size=3, age_days=50),
    Profile(billing="prepaid_empty", size=3), Profile(status="onboarding", billing="trial_pending", size=1, age_days=3),
    Profile(size=11, recon="gaps"), Profile(size=7, providers=("openai", "google")), Profile(size=16),
    Profile(billing="prepaid_healthy", size=8, recon="mismatch"), Profile(size=5, providers=()),
    Profile(status="suspended", billing="prepaid_low", size=2), Profile(size=12, recon="current"),
    Profile(billing="trial_approved", size=2, age_days=25), Profile(size=6), Profile(size=9, recon="mismatch"),
    Profile(billing="paid_unverified", size=4), Profile(size=13), Profile(billing="prepaid_low", size=5),
    Profile(size=4, providers=("anthropic", "google")), Profile(size=20), Profile(billing="trial_approved", size=3),
    Profile(size=7, recon="current"), Profile(billing="prepaid_healthy", size=6), Profile(size=10),
    Profile(status="onboarding", billing="paid_unverified", size=2, providers=("openai",), age_days=9),
)


def customer_id(name: str) -> str:
    return "cus_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def write_dataset(root: Path, dataset: str, rows: list[dict], part: str = "part-0") -> Path:
    """Write rows of one dataset as parquet in the contract's schema (part may hold hive folders)."""
    columns = DATASETS[dataset].columns
    schema = pa.schema([pa.field(c.name, _ARROW[c.kind]) for c in columns])
    table = pa.Table.from_pylist([{c.name: row.get(c.name) for c in columns} for row in rows], schema=schema)
    path = Path(root) / dataset / f"{part}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return path


def _at(day: date, hours: float) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(hours=hours)


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class _Customer:
    """Generates one customer's rows from its profile and its own random stream."""

    def __init__(self, index: int, name: str, profile: Profile, now: datetime, start: date, seed: int):
        self.index, self.id, self.name, self.p, self.now = index, customer_id(name), name, profile, now
        self.rng = random.Random(f"{seed}:{self.id}")
        self.created_at = (now - timedelta(days=profile.age_days, hours=self.rng.randint(0, 23))).replace(
            minute=0, second=0, microsecond=0)
        self.first_day = max(start, self.created_at.date() + timedelta(days=1))
        self.offset = self.rng.choice((-8, -5, 0, 1, 5.5, 9))  # office hours in UTC differ per customer
        self.usage_end = now if profile.status != "suspended" else now - timedelta(days=self.rng.randint(18, 30))

    def customer(self) -> dict:
        return {"customer_id": self.id, "customer_name": self.name, "created_at": self.created_at,
                "account_status": self.p.status}

    def billing(self) -> list[dict]:
        kind, now = self.p.billing, self.now
        if kind == "missing":
            return []
        base = {"customer_id": self.id, "payment_verified": False, "trial_status": None, "trial_ends_at": None,
                "prepaid_workspace_hours": None, "prepaid_ai_usd": None}
        first = {**base, "as_of": self.created_at, "billing_mode": "trial", "trial_status": "pending"}
        latest_at = now - timedelta(hours=self.rng.randint(2, 60))
        mode, _, variant = kind.partition("_")
        latest = {**base, "as_of": latest_at, "billing_mode": mode}
        if kind == "paid":
            latest["payment_verified"] = True
        elif mode == "trial":
            status, ends_in_days = TRIALS[variant]
            ends = None if ends_in_days is None else now + timedelta(days=ends_in_days)
            latest.update(trial_status=status, trial_ends_at=ends)
        elif mode == "prepaid":
            hours, ai = PREPAID[variant]
            latest.update(prepaid_workspace_hours=hours, prepaid_ai_usd=Decimal(ai))
        return [first, latest] if latest_at > self.created_at else [latest]

    def workspaces(self) -> list[tuple[str, str, str]]:
        result = []
        for n in range(self.p.size):
            template = self.rng.choices(TEMPLATES, TEMPLATE_WEIGHTS)[0]
            result.append((f"ws_{self.index:02d}{n:03d}", f"usr_{self.index:02d}{n % max(1, self.p.size // 2 + 1):02d}",
                           template))
        return result

    def sessions(self) -> list[dict]:
        rows = []
        for ws, user, template in self.workspaces():
            busy = self.rng.uniform(0.45, 0.85)
            for day in _days(self.first_day, self.usage_end.date()):
                weekday = day.weekday() < 5
                if self.rng.random() > (busy if weekday else 0.08):
                    continue
                start = _at(day, 8.5 - self.offset + self.rng.uniform(-1.5, 2))
                length = self.rng.uniform(1.5, 9.5) if template != "gpu" else self.rng.uniform(3, 14)
                rows.append(self._session(ws, user, template, start, start + timedelta(hours=length)))
                if self.rng.random() < 0.07:  # a second session that overlaps the first (a reconnect)
                    again = start + timedelta(hours=length * self.rng.uniform(0.3, 0.9))
                    rows.append(self._session(ws, user, template, again, again + timedelta(hours=self.rng.uniform(1, 4))))
                if template == "gpu" and self.rng.random() < 0.3:  # a nightly job across midnight
                    night = _at(day, 22 + self.rng.uniform(0, 1.5))
                    rows.append(self._session(ws, user, template, night, night + timedelta(hours=self.rng.uniform(4, 7))))
        return [r for r in rows if r["started_at"] < self.usage_end]

    def _session(self, ws: str, user: str, template: str, start: datetime, end: datetime) -> dict:
        start, end = start.replace(microsecond=0), end.replace(microsecond=0)
        if end > self.usage_end:  # still running now; a suspended account's sessions were stopped
            end = None if self.usage_end == self.now else self.usage_end.replace(microsecond=0)
        return {"customer_id": self.id, "workspace_id": ws, "user_id": user, "template": template,
                "started_at": start, "ended_at": end}

    def ai_usage(self) -> list[dict]:
        rows = []
        used = {p: self.rng.sample(sorted(MODELS[p]), self.rng.randint(1, len(MODELS[p]))) for p in MODELS}
        providers = list(self.p.providers) or ["openai"]  # unlinked customers still use (and get metered)
        if "google" not in providers and self.index % 3 == 0:
            providers.append("google")  # metered usage on a provider that is not linked
        scale = max(1, self.p.size) * self.rng.uniform(3, 8)
        for day in _days(self.first_day, self.usage_end.date()):
            weekday = day.weekday() < 5
            for hour in range(24):
                local = (hour + self.offset) % 24
                if not (8 <= local < 19) or (not weekday and self.rng.random() > 0.15):
                    continue
                bucket = _at(day, hour)
                if bucket >= self.usage_end:
                    break
                for provider in providers:
                    for model in used[provider]:
                        if self.rng.random() < 0.45:
                            rows.append(self._bucket(bucket, provider, model, scale))
        return rows

    def _bucket(self, bucket: datetime, provider: str, model: str, scale: float) -> dict:
        requests = max(1, int(self.rng.expovariate(1 / scale)))
        input_tokens = requests * self.rng.randint(400, 3000)
        cached = int(input_tokens * self.rng.uniform(0, 0.6))
        output = requests * self.rng.randint(80, 700)
        price_in, price_cached, price_out = MODELS[provider][model]
        cost = (Decimal(input_tokens - cached) * Decimal(str(price_in)) + Decimal(cached) * Decimal(str(price_cached))
                + Decimal(output) * Decimal(str(price_out))) / Decimal(1_000_000)
        return {"customer_id": self.id, "bucket_start": bucket, "provider": provider, "model": model,
                "provider_project_id": f"proj_{provider}_{self.id[4:]}", "requests": requests,
                "input_tokens": input_tokens, "cached_input_tokens": cached, "output_tokens": output,
                "cost_usd": cost.quantize(MICRO)}

    def links(self) -> list[dict]:
        linked_at = self.created_at + timedelta(days=1)
        return [{"customer_id": self.id, "provider": p, "provider_project_id": f"proj_{p}_{self.id[4:]}",
                 "linked_at": linked_at} for p in self.p.providers]

    def reconciliation(self, usage: list[dict]) -> list[dict]:
        metered: dict[tuple[str, date], Decimal] = {}
        for row in usage:
            key = (row["provider"], row["bucket_start"].date())
            metered[key] = metered.get(key, Decimal(0)) + row["cost_usd"]
        today = self.now.date()
        tail = {"current": 0, "normal": self.rng.randint(2, 3), "mismatch": 2, "gaps": 1, "stale": 26}[self.p.recon]
        rows = []
        for (provider, day), cost in sorted(metered.items()):
            if provider not in self.p.providers or day >= today:
                continue  # unlinked providers are not reconciled; today is never reconciled yet
            behind = (today - day).days
            if self.p.recon == "gaps" and behind <= 3:
                continue  # usage days the reconciliation job has not written yet
            row = {"customer_id": self.id, "provider": provider, "usage_date": day, "metered_cost_usd": cost}
            if behind <= tail:
                rows.append({**row, "status": "pending", "provider_cost_usd": None, "reconciled_at": None})
                continue
            provider_cost, status = cost, "matched"
            if self.p.recon == "mismatch" and behind in (6, 40) and provider == self.p.providers[0]:
                provider_cost, status = (cost * Decimal("1.031")).quantize(MICRO), "mismatch"
            rows.append({**row, "status": status, "provider_cost_usd": provider_cost,
                         "reconciled_at": _at(day + timedelta(days=1), 6 + self.rng.uniform(0, 10)).replace(microsecond=0)})
        return rows


def generate(out: Path, now: datetime, seed: int = 7, customers: int = 40) -> dict:
    """Write every dataset for six months ending at now's month; return the manifest."""
    now = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    month = now.month - 5
    start = date(now.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not (out / SAMPLE_MANIFEST).is_file():
        raise FileExistsError(f"{out} holds files that are not a generated sample; choose an empty folder")
    for name in DATASETS:  # a previous sample's months must not linger
        shutil.rmtree(out / name, ignore_errors=True)
    rows: dict[str, list[dict]] = {name: [] for name in DATASETS}
    for index in range(customers):
        c = _Customer(index, NAMES[index % len(NAMES)] + ("" if index < len(NAMES) else f" {index // len(NAMES) + 1}"),
                      PROFILES[index % len(PROFILES)], now, start, seed)
        usage = c.ai_usage()
        rows["customers"].append(c.customer())
        rows["billing_accounts"] += c.billing()
        rows["workspace_sessions"] += c.sessions()
        rows["ai_usage"] += usage
        rows["provider_links"] += c.links()
        rows["reconciliation"] += c.reconciliation(usage)
    for dataset in ("customers", "billing_accounts", "provider_links", "reconciliation"):
        write_dataset(out, dataset, rows[dataset])
    for dataset, key in (("workspace_sessions", "started_at"), ("ai_usage", "bucket_start")):
        by_month: dict[str, list[dict]] = {}
        for row in sorted(rows[dataset], key=lambda r: (r[key], r["customer_id"])):  # arrival order
            by_month.setdefault(f"{row[key]:%Y-%m}", []).append(row)
        for label, month_rows in by_month.items():
            write_dataset(out, dataset, month_rows, part=f"month={label}/part-0")
    manifest = {"generator": "python -m usage_analytics sample-data", "seed": seed, "customers": customers,
                "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "rows": {k: len(v) for k, v in rows.items()}}
    (out / SAMPLE_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
