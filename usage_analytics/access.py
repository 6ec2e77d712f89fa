"""Who may open which page, and whose data they see (docs/product.md §2): one table, default deny."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Collection

OPERATOR = "operator"
CUSTOMER_ADMIN = "customer_admin"
CUSTOMER_MEMBER = "customer_member"

WHO_CAN_VIEW = ("Usage analytics is open to your organisation's customer admins and to the platform's "
                "operators.")


@dataclass(frozen=True)
class Page:
    id: str  # the URL path and the module name in pages/ (with _ for -)
    title: str
    icon: str
    roles: frozenset[str]
    caption: str

    @property
    def module(self) -> str:
        """Its module in pages/, named as its URL path: a freshly started server's pages/ folder mode serves
        pages/<file>.py at /<file>, and the file then hands over to app.py on the same path."""
        return self.id


_CUSTOMER_PAGES = frozenset({OPERATOR, CUSTOMER_ADMIN})
_OPERATORS_ONLY = frozenset({OPERATOR})

# The policy. Order is the order of the navigation and of the review flow.
PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", ":material/dashboard:", _CUSTOMER_PAGES,
         "Headline figures for the scope and period, and the review checklist."),
    Page("runtime", "Workspace runtime", ":material/timer:", _CUSTOMER_PAGES,
         "Observed workspace runtime per day, template and workspace."),
    Page("managed-ai", "Managed AI", ":material/smart_toy:", _CUSTOMER_PAGES,
         "Managed-AI cost, tokens and requests per day by provider and model."),
    Page("reconciliation", "Reconciliation", ":material/fact_check:", _CUSTOMER_PAGES,
         "Whether provider-side usage was matched to the account, day by day."),
    Page("billing", "Billing", ":material/account_balance_wallet:", _CUSTOMER_PAGES,
         "Whether billing allows workspace creation, and the next action."),
    Page("handoff", "Billing handoff", ":material/request_quote:", _OPERATORS_ONLY,
         "The billing handoff pack for finance, as CSV and JSON."),
    Page("close", "Month close", ":material/lock_clock:", _OPERATORS_ONLY,
         "Close ended months: every customer's handoff pack frozen as a revision; what changed since."),
    Page("operators", "Operators", ":material/groups:", _OPERATORS_ONLY,
         "Every customer's billing state, readiness, usage and reconciliation."),
    Page("data-health", "Data health", ":material/health_and_safety:", _OPERATORS_ONLY,
         "Per dataset: files, rows read and rejected by reason, forbidden columns, freshness."),
    Page("access-log", "Access log", ":material/policy:", _OPERATORS_ONLY,  # (and Action.OPEN_ACCESS_LOG)
         "Every login, logout, refused session, denial, page view and download: who, when, from where."),
)
PAGE_IDS = tuple(p.id for p in PAGES)


class Action(Enum):
    """What a user may do with the data beyond opening a page (Datasette's actions): asked with can()."""
    SEE_PROVIDER_PROJECTS = "see provider project IDs"  # support needs them; customer scope never shows them
    SEE_UNLINKED_USAGE = "see unlinked providers' metered usage"  # usage not attributed to any customer
    SEE_DATA_INTERNALS = "see file paths and dataset internals in messages"
    OPEN_ACCESS_LOG = "open the access log"
    SEE_DAILY_RECONCILIATION = "see each day's metered and provider cost"  # the working detail of a dispute
    SEE_ATTENTION_DETAIL = "read the attention queue in the platform's words"  # customers get their own words


# The policy's second table: who may do what. Every action is operator-only today; a row says so each.
ACTIONS: dict[Action, frozenset[str]] = {
    Action.SEE_PROVIDER_PROJECTS: _OPERATORS_ONLY,
    Action.SEE_UNLINKED_USAGE: _OPERATORS_ONLY,
    Action.SEE_DATA_INTERNALS: _OPERATORS_ONLY,
    Action.OPEN_ACCESS_LOG: _OPERATORS_ONLY,
    Action.SEE_DAILY_RECONCILIATION: _OPERATORS_ONLY,
    Action.SEE_ATTENTION_DETAIL: _OPERATORS_ONLY,
}


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: tuple[str, ...] = ()
    customer_id: str | None = None  # from auth.yaml only; binds a customer admin to one customer



def page(page_id: str) -> Page:
    return next(p for p in PAGES if p.id == page_id)


def can_view(user: User | None, page_id: str) -> bool:
    """The one decision: may this user open this page? Unknown pages and anonymous users: no."""
    if user is None or page_id not in PAGE_IDS:
        return False
    return bool(set(user.roles) & page(page_id).roles)


def pages_for(user: User | None) -> list[Page]:
    return [p for p in PAGES if can_view(user, p.id)]


@dataclass(frozen=True)
class Scope:
    """Whose data a user sees: every customer (operators) or exactly one, fixed."""
    customer_id: str | None  # the one customer; None for operators, who choose

    @property
    def is_fixed(self) -> bool:
        return self.customer_id is not None


@dataclass(frozen=True)
class Decision:
    pages: tuple[Page, ...]
    scope: Scope | None
    message: str = ""  # why nothing is shown, and what to do

    @property
    def allowed(self) -> bool:
        return bool(self.pages) and self.scope is not None


def check(user: User, customer_ids: Collection[str] | None) -> Decision:
    """Pages and scope of a logged-in user, or a denial that says who can view usage and what to do.

    customer_ids are the customers in the data, None when the customers dataset cannot be read."""
    if OPERATOR in user.roles:
        return Decision(tuple(pages_for(user)), Scope(None))
    if CUSTOMER_ADMIN in user.roles:
        if not user.customer_id:
            return Decision((), None, f"Your account {user.username!r} is a customer admin but is not bound to "
                                      "a customer. Ask a platform operator to set your customer_id in auth.yaml.")
        if customer_ids is None:
            return Decision((), None, "The customers dataset cannot be read right now, so your customer cannot "
                                      "be confirmed. A platform operator has been shown why; try again later.")
        if user.customer_id not in customer_ids:
            return Decision((), None, f"Your account is bound to customer {user.customer_id!r}, which is not in "
                                      "the usage data. Ask a platform operator to check your customer binding.")
        return Decision(tuple(pages_for(user)), Scope(user.customer_id))
    if CUSTOMER_MEMBER in user.roles:
        return Decision((), None, f"{WHO_CAN_VIEW} Your account is a customer member, which does not include "
                                  "usage and billing. Ask a customer admin of your organisation for the figures, "
                                  "or for the customer admin role.")
    roles = ", ".join(user.roles) if user.roles else "none"
    return Decision((), None, f"{WHO_CAN_VIEW} Your account has no role that includes it (roles: {roles}). "
                              "Ask a platform operator to give you the customer_admin or operator role.")


def can(user: User | None, action: Action) -> bool:
    """The one decision on data: may this user do this? Anonymous users and unknown actions: no."""
    if user is None or not isinstance(action, Action):
        return False
    return bool(set(user.roles) & ACTIONS[action])
