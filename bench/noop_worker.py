"""The peer for the dramatiq ratio: a no-op actor on the same broker, run by the same worker setup.

``python -m bench.noop_worker REDIS_URL THREADS`` runs one worker process whose only
actor counts its messages in Redis (the least an actor can do to be observable).
"""

from __future__ import annotations

import signal
import sys
import threading

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

COUNTER = "bench:noop:done"


def declare(url: str) -> tuple[RedisBroker, dramatiq.Actor[[], None]]:
    broker = RedisBroker(url=url, heartbeat_timeout=15_000)  # type: ignore[no-untyped-call]
    client = redis.Redis.from_url(url)

    def noop() -> None:
        client.incr(COUNTER)

    declare_actor = dramatiq.actor(actor_name="bench.noop", broker=broker, queue_name="bench")
    return broker, declare_actor(noop)


def main() -> None:
    url, threads = sys.argv[1], int(sys.argv[2])
    broker, _actor = declare(url)
    worker = dramatiq.Worker(broker, queues={"bench"}, worker_threads=threads)
    worker.start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main()
