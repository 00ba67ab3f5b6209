"""How the notifier reads a webhook receiver's answer: what is sent again, what falls back."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from datetime import UTC, datetime

import anyio.to_thread
import pytest

from tests.paging.receivers import Receiver
from tocsin.adapters.notifiers import Notifier, SmtpSettings
from tocsin.domain.paging import Delivery, SendFailed
from tocsin.policy import load_default_policy
from tocsin.policy.paging import Destination

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def webhook_page(url: str) -> Delivery:
    return Delivery(
        incident_id=7, channel="webhook", method="webhook", address=url,
        subject="[P2] INC-7: Checkout failing", body="Checkout answers 502",
        idempotency_key="7-0-3-webhook-0", due_at=NOW, created_at=NOW, person_id=3, step=0,
        ack_token="tok",
    )  # fmt: skip


def notifier(**destinations: Destination) -> Notifier:
    policy = load_default_policy()
    paging = policy.paging.model_copy(update={"destinations": destinations})
    return Notifier(paging, SmtpSettings("127.0.0.1", 1, "tocsin@example.com"), "https://t.example")


def send(sender: Notifier, delivery: Delivery) -> SendFailed | None:
    async def once() -> SendFailed | None:
        try:
            await sender.send(delivery)
            return None
        except SendFailed as exc:
            return exc
        finally:
            await sender.aclose()

    return asyncio.run(once())


def test_an_accepted_page_carries_its_key_and_acknowledgement_link(receiver: Receiver) -> None:
    assert send(notifier(), webhook_page(receiver.url)) is None
    page = receiver.bodies[0]
    assert page["headers"]["Idempotency-Key"] == "7-0-3-webhook-0"
    assert page["ack_url"] == "https://t.example/ack/tok"
    assert page["body"].endswith("Acknowledge in one click: https://t.example/ack/tok")
    assert "X-Tocsin-Signature" not in page["headers"]  # a person's own webhook has no secret


@pytest.mark.parametrize(
    ("status", "permanent", "says"),
    [
        (503, False, "answered 503"),
        (429, False, "answered 429"),
        (404, True, "refused the page with 404"),
        (400, True, "refused the page with 400"),
    ],
)
def test_a_refusal_says_whether_sending_again_may_help(
    receiver: Receiver, status: int, permanent: bool, says: str
) -> None:
    receiver.failing, receiver.failure_status = True, status
    failed = send(notifier(), webhook_page(receiver.url))
    assert failed is not None and failed.permanent is permanent and says in str(failed)
    assert receiver.accepted == [] and receiver.refused == 1


def test_a_receiver_that_is_not_listening_is_tried_again_later() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens once the probe closes
    failed = send(notifier(), webhook_page(f"http://127.0.0.1:{port}/page"))
    assert failed is not None and not failed.permanent and f"127.0.0.1:{port}" in str(failed)


def test_a_pagerduty_refusal_quotes_what_pagerduty_said(receiver: Receiver) -> None:
    receiver.failing, receiver.failure_status = True, 400
    forwarder = Destination(pagerduty="R0UTING", url=receiver.url)
    page = webhook_page("pagerduty")
    page.method = "destination"
    failed = send(notifier(pagerduty=forwarder), page)
    assert failed is not None and failed.permanent
    assert str(failed).startswith("PagerDuty refused the event with 400")


def test_a_destination_signs_the_body_it_sends(receiver: Receiver) -> None:
    sender = notifier(hooks=Destination(webhook=receiver.url, secret="s3cret"))
    page = webhook_page("hooks")
    page.method = "destination"
    assert send(sender, page) is None
    raw = receiver.raw[0]
    expected = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert receiver.bodies[0]["headers"]["X-Tocsin-Signature"] == f"sha256={expected}"


def test_mail_to_a_server_that_never_answers_leaves_threads_for_everything_else() -> None:
    """Fifty pages stuck on a mail server that accepted the connection and says nothing: the
    server's database calls, which run in the default thread pool, still get a thread at once."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)  # connects, never greets
    port = listener.getsockname()[1]
    sender = Notifier(
        load_default_policy().paging, SmtpSettings("127.0.0.1", port, "t@example.com"), ""
    )

    def mail(n: int) -> Delivery:
        return Delivery(
            incident_id=n, channel="email", method="email", address=f"p{n}@example.com",
            subject="[P1]", body="paged", idempotency_key=f"k{n}", due_at=NOW, created_at=NOW,
        )  # fmt: skip

    async def scenario() -> list[BaseException | None]:
        sends = [asyncio.create_task(sender.send(mail(n))) for n in range(50)]
        await asyncio.sleep(0.5)  # every send has taken what threads it may
        try:
            assert await asyncio.wait_for(anyio.to_thread.run_sync(lambda: "db"), 2) == "db"
        finally:
            listener.close()  # the stuck connections are reset and the sends fail
        return await asyncio.gather(*sends, return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, SendFailed) and not o.permanent for o in outcomes), outcomes
