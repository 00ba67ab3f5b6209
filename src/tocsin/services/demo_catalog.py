"""The demo organisation's catalog: people, teams, services, and its open incident's runbook."""

from __future__ import annotations

from tocsin.domain import commands as c

PEOPLE = (
    c.PersonSpec(
        "alice",
        "Alice Martin",
        "alice@example.com",
        "Europe/Berlin",
        "",
        (("sms", "+4915112345678"), ("email", "alice@example.com")),
    ),
    c.PersonSpec("bob", "Bob Chen", "bob@example.com", "America/New_York"),
    c.PersonSpec("carol", "Carol Diaz", "carol@example.com", "Europe/London"),
    c.PersonSpec(
        "dave", "Dave Okafor", "dave@example.com", "Europe/Berlin", "director of engineering"
    ),
    c.PersonSpec("erin", "Erin Walsh", "erin@example.com", "America/New_York", "VP engineering"),
    c.PersonSpec("frank", "Frank Novak", "frank@example.com", "America/Los_Angeles", "CTO"),
    c.PersonSpec("grace", "Grace Kim", "grace@example.com", "America/Los_Angeles", "CEO"),
    c.PersonSpec("heidi", "Heidi Larsen", "heidi@example.com", "Europe/Oslo"),
)
TEAMS = (
    c.TeamSpec(
        "payments",
        "Payments",
        "Checkout and payment processing",
        (("alice", "on-call engineer"), ("bob", "team lead"), ("carol", "engineering manager")),
    ),
    c.TeamSpec(
        "platform",
        "Platform",
        "Edge, compute and data stores",
        (("heidi", "on-call engineer"), ("carol", "engineering manager"), ("bob", "member")),
    ),
)
SERVICES = (
    c.ServiceSpec("web", "Web frontend", "Public website and app shell", "platform", 1),
    c.ServiceSpec("auth", "Authentication", "Login, sessions and tokens", "platform", 1, ("web",)),
    c.ServiceSpec(
        "payments",
        "Payments API",
        "Card and wallet payments",
        "payments",
        1,
        ("auth",),
        ("https://runbooks.example.com/payments",),
    ),
    c.ServiceSpec(
        "checkout",
        "Checkout",
        "Cart and order placement",
        "payments",
        1,
        ("payments", "auth", "web"),
    ),
    c.ServiceSpec("search", "Search", "Product search and suggestions", "platform", 3, ("web",)),
)


CARD_TIMEOUTS_RUNBOOK = c.RunbookSpec(
    slug="card-authorisation-timeouts",
    title="Card authorisations time out",
    body=(
        "# Card authorisations time out\n\n"
        "Usually the acquirer is slow, or our retries pile up on it.\n\n"
        "- [ ] Check the acquirer's status page and latency dashboard\n"
        "- [ ] Compare with the last payments-api deploy (see Recent changes)\n"
        "- [ ] Switch card retries off {action: card-retries-off}\n"
        "- [ ] Verify recovery: a check on the payments health endpoint passes 3 times\n"
    ),
    services=("payments",),
    alerts=("CardAuthorisationTimeouts",),
    actions=(
        c.ActionSpec(
            name="card-retries-off",
            title="Turn the card retry feature flag off",
            method="PATCH",
            url="https://flags.example.com/api/flags/card-retries",
            headers=(("Authorization", "Bearer ${TOCSIN_SECRET_FLAGS_TOKEN}"),),
            body='{"enabled": false, "reason": "{{ reference }}"}',
            requires_approval=True,
        ),
    ),
)
