"""Can a final managed-AI number be quoted for a customer and period, and why (or why not), in one sentence."""
from __future__ import annotations

from . import coverage, rules
from .summary import CustomerSummary, as_date


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def final_quote(summary: CustomerSummary) -> tuple[bool, str]:
    """Can a final managed-AI number be quoted for this period, and why (or why not), in one sentence: plain
    text that names providers as they came (a page shows it through formatting.literal)."""
    unlinked = f" Reconciliation is not configured for {', '.join(summary.not_configured)}, so its " \
               "usage is not attributed." if summary.not_configured else ""
    if summary.ai_status == rules.INCOMPLETE:
        return False, ("No: the managed-AI total is incomplete, because export files it is made from could not be "
                       f"read ({summary.data.unread_text(coverage.MANAGED_AI)}). Quote nothing until they are "
                       "fixed.")
    if summary.ai_status == rules.NO_DATA:
        return False, f"No: there is no data for this period ({summary.data.note}), so there is nothing to quote."
    if not summary.providers:
        return False, "There is no customer-attributed managed-AI usage to quote: no provider is linked." + unlinked
    if summary.ai_status == rules.FINAL:
        return True, ("Yes: a final managed-AI number can be quoted. The period has ended and every day with usage "
                      "is matched for every linked provider." + unlinked)
    reasons = [] if summary.data.level == coverage.FULL else [summary.data.note]
    if not summary.period.has_ended(summary.now):
        reasons.append(f"the period is open until {summary.period.end:%Y-%m-%d %H:%M} UTC")
    days = summary.ai_daily.drop_duplicates(["provider", "day"])
    today = summary.now.date()
    for p in summary.providers:
        if p.status == rules.FINAL:
            continue
        mine = days[days["provider"] == p.provider]
        statuses = mine["reconciliation_status"].tolist()
        due = [not rules.not_yet_due(as_date(day), today) for day in mine["day"]]
        mismatched = statuses.count("mismatch")
        open_days = [s in ("pending", "missing") for s in statuses]
        waiting = sum(o and d for o, d in zip(open_days, due))
        not_due = sum(o and not d for o, d in zip(open_days, due))
        parts = ([_plural(mismatched, "mismatched day")] if mismatched else []) + \
                ([f"{_plural(waiting, 'day')} not yet reconciled"] if waiting else []) + \
                ([f"{_plural(not_due, 'day')} not due yet"] if not_due else [])
        if parts:
            reasons.append(f"{p.provider} has {' and '.join([', '.join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts)}")
    because = "; ".join(reasons) if reasons else "not every day with usage is matched yet"
    return False, f"Not yet: the managed-AI total is provisional because {because}." + unlinked
