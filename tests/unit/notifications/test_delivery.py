"""The delivery queue: retried with backoff, given up after its attempts, bounded, each notification offered once
while pending."""

from __future__ import annotations

import asyncio

from notifications.delivery import DeliveryJob, DeliveryQueue, RetryPolicy
from notifications.services import DeliveryError


def test_backoff_doubles_from_the_base_up_to_the_maximum() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=5.0)
    assert [policy.delay(attempt) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def job(identity: str, outcomes: list[bool], sent: list[str], attempts: list[int]) -> DeliveryJob:
    async def send() -> None:
        attempts.append(1)
        if not outcomes.pop(0):
            raise DeliveryError("refused")

    async def record() -> None:
        sent.append(identity)

    return DeliveryJob(identity, identity, send, record)


async def run_until(queue: DeliveryQueue, done: asyncio.Event) -> None:
    queue.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await queue.stop()


def test_a_failed_attempt_is_retried_and_recorded_once_delivered() -> None:
    async def scenario() -> tuple[list[str], list[int], int]:
        queue = DeliveryQueue(retry=RetryPolicy(max_attempts=5, backoff_base=0.01))
        sent: list[str] = []
        attempts: list[int] = []
        done = asyncio.Event()
        delivered = job("a", [False, False, True], sent, attempts)
        original = delivered.sent

        async def recorded() -> None:
            await original()
            done.set()

        delivered.sent = recorded
        assert queue.offer(delivered)
        await run_until(queue, done)
        return sent, attempts, queue.failed_attempts

    sent, attempts, failed = asyncio.run(scenario())
    assert sent == ["a"] and len(attempts) == 3 and failed == 2


def test_a_delivery_is_given_up_after_its_attempts_and_never_recorded() -> None:
    async def scenario() -> tuple[list[str], int, int, bool]:
        queue = DeliveryQueue(retry=RetryPolicy(max_attempts=3, backoff_base=0.01))
        sent: list[str] = []
        attempts: list[int] = []
        queue.offer(job("a", [False] * 10, sent, attempts))
        queue.start()
        try:
            while queue.given_up == 0:
                await asyncio.sleep(0.01)
        finally:
            await queue.stop()
        return sent, len(attempts), queue.given_up, "a" in queue.pending

    sent, attempts, given_up, pending = asyncio.run(scenario())
    assert sent == [] and attempts == 3 and given_up == 1 and not pending


def test_a_pending_notification_is_not_offered_twice_and_a_full_queue_refuses() -> None:
    async def scenario() -> list[bool]:
        queue = DeliveryQueue(capacity=2)
        offers = [queue.offer(job(name, [True], [], [])) for name in ("a", "a", "b", "c")]
        await queue.stop()
        return offers

    assert asyncio.run(scenario()) == [True, False, True, False]


def test_an_unexpected_failure_gives_the_notification_up_and_the_worker_goes_on() -> None:
    async def scenario() -> tuple[int, list[str]]:
        queue = DeliveryQueue(workers=1)
        sent: list[str] = []
        done = asyncio.Event()

        async def broken() -> None:
            raise RuntimeError("a bug")

        async def record() -> None:
            sent.append("b")
            done.set()

        queue.offer(DeliveryJob("a", "a", broken, record))
        queue.offer(DeliveryJob("b", "b", lambda: asyncio.sleep(0), record))
        await run_until(queue, done)
        return queue.given_up, sent

    assert asyncio.run(scenario()) == (1, ["b"])
