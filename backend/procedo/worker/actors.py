"""The dramatiq actors: each carries one id and calls the matching runtime handler.

The broker is chosen at start-up (Redis or RabbitMQ by URL, or dramatiq's
in-process stub for the embedded mode) and the actors are declared on it, so
the same four actors run everywhere. Messages carry ids only; the rows are the
truth. Retries are short: a lost race is retried inside the handler, and
anything that keeps failing is found again by the scheduler's sweeper.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from procedo.runtime import outbox, work
from procedo.runtime.context import MessageKind, Runtime

QUEUE = "procedo"
# Short, bounded retries: never a long broker delay (timers live in the database).
ACTOR_OPTIONS: dict[str, Any] = {
    "queue_name": QUEUE,
    "max_retries": 3,
    "min_backoff": 200,
    "max_backoff": 2000,
    "time_limit": 120_000,
}


def make_broker(url: str) -> dramatiq.Broker:
    if not url:
        return StubBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        # A killed worker's unacknowledged messages go back to the queue after this.
        return RedisBroker(url=url, heartbeat_timeout=15_000)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ValueError(f"PROCEDO_BROKER_URL {url!r}: use redis://... or amqp://...")


@dataclass
class Actors:
    broker: dramatiq.Broker
    by_kind: dict[MessageKind, dramatiq.Actor[[str], None]]

    def send(self, kind: MessageKind, idents: Sequence[uuid.UUID]) -> None:
        self.by_kind[kind].send(",".join(str(ident) for ident in idents))


def declare_actors(broker: dramatiq.Broker, runtime: Callable[[], Runtime]) -> Actors:
    """Declare the actors on ``broker``; ``runtime()`` gives this process's runtime."""

    def actor(name: str, handler: Callable[[Runtime, list[uuid.UUID]], None]) -> Any:
        def run(idents: str) -> None:
            handler(runtime(), [uuid.UUID(ident) for ident in idents.split(",")])

        run.__name__ = name
        declare = dramatiq.actor(actor_name=f"procedo.{name}", broker=broker, **ACTOR_OPTIONS)
        return declare(run)

    return Actors(
        broker=broker,
        by_kind={
            "advance": actor("advance", work.advance),
            "timer": actor("fire_timers", work.fire_timers),
            "event": actor("dispatch_events", work.dispatch_events),
            "outbox": actor("deliver", outbox.deliver_all),
        },
    )
