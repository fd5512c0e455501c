"""The scheduler: claims due timers and emails, runs schedules, sweeps up lost work.

Several schedulers may run at once against PostgreSQL: claims use
FOR UPDATE SKIP LOCKED, so each due row goes to exactly one of them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from procedo.clientpage import adhoc
from procedo.portal import plans as portal_plans
from procedo.procedures import assign as procedures
from procedo.runtime import fact_waits, outbox, work
from procedo.runtime.context import MessageKind, Runtime, send_batched
from procedo.runtime.recurrence import run_due_plans
from procedo.runtime.schedules import run_due_schedules
from procedo.runtime.sweep import sweep

log = logging.getLogger("procedo.scheduler")


class Scheduler:
    def __init__(
        self,
        rt: Runtime,
        poll: float = 0.25,
        grace: float = 30.0,
        sending_timeout: float = 300.0,
        fact_pass_every: float = 300.0,
    ) -> None:
        self.rt = rt
        self.poll = poll
        self.grace = dt.timedelta(seconds=grace)
        self.sending_timeout = dt.timedelta(seconds=sending_timeout)
        # The sweep finds messages the broker lost: a matter of real time (seconds
        # since a worker died), so it keeps time.monotonic, also on a simulated calendar.
        self.sweep_every = min(10.0, grace / 2)
        self.sweep_singly_up_to = 100
        self._last_sweep = 0.0
        # Waits on computed facts are woken by their own timers and by subject events;
        # this pass catches what changed without an event (rows written by hand), and
        # overdue days grow with the calendar: so it follows the runtime's clock (every
        # 5 minutes of the system's time; on a simulated one, once per step that long).
        self.fact_pass_every = dt.timedelta(seconds=fact_pass_every)
        self._last_fact_pass: dt.datetime | None = None

    def tick(self) -> int:
        """One round; returns how much it did (messages sent and instances started).

        Each phase runs on its own: one that fails is logged and the others still
        run, so, say, a failing sweep never stops timers or schedules.
        """
        done = self._phase("claiming due timers and emails", self._claim_due)
        if time.monotonic() - self._last_sweep >= self.sweep_every:
            self._last_sweep = time.monotonic()
            done += self._phase("sweeping", self._sweep)
        done += self._phase("running schedules", lambda: run_due_schedules(self.rt))
        now = self.rt.clock.now()
        last = self._last_fact_pass
        if last is None or now - last >= self.fact_pass_every:
            self._last_fact_pass = now
            done += self._phase("waking waits on facts", lambda: fact_waits.wake_all(self.rt))
            # Portal arrangements with a missed instalment break, promises past due end.
            done += self._phase("portal plans", lambda: portal_plans.sweep(self.rt))
            # Ad hoc client requests: reminders, and overdue past their due date.
            done += self._phase("client requests", lambda: adhoc.sweep(self.rt))
            # Debtors newly overdue get their primary procedure, disputes their secondary one.
            done += self._phase("starting procedures", lambda: procedures.reconcile_all(self.rt))
        return done + self._phase("running start plans", lambda: run_due_plans(self.rt))

    def _phase(self, name: str, action: Callable[[], int]) -> int:
        try:
            return action()
        except Exception:  # the database may be briefly away; keep going
            log.exception("scheduler round failed %s", name)
            return 0

    def _claim_due(self) -> int:
        messages: list[tuple[MessageKind, uuid.UUID]] = []
        messages += [("timer", ident) for ident in work.claim_due_timers(self.rt)]
        messages += [("outbox", ident) for ident in outbox.claim_due(self.rt)]
        send_batched(self.rt.dispatcher, messages)
        return len(messages)

    def _sweep(self) -> int:
        found = sweep(self.rt, self.grace, self.sending_timeout)
        sent = sum(len(messages) for messages in found.values())
        # Usually the sweeper finds a handful: what keeps failing. One per message, each
        # fails alone. A flood (after the broker lost its messages) goes in batches, of
        # one tenant each, so recovery stays fast and holds up no other tenant's work.
        for messages in found.values():
            if sent <= self.sweep_singly_up_to:
                for kind, ident in messages:
                    self.rt.dispatcher.send(kind, [ident])
            else:
                send_batched(self.rt.dispatcher, messages)
        return sent

    def run(
        self, stop: threading.Event, on_round: Callable[[dt.datetime, int], None] | None = None
    ) -> None:
        """Rounds until ``stop``; ``on_round(moment the round began, work done)`` after each."""
        while not stop.is_set():
            began: dt.datetime | None = None
            failed = False
            try:
                began = self.rt.clock.now()
                busy = self.tick()
            except Exception:  # the database may be briefly away; keep going
                log.exception("scheduler round failed")
                busy, failed = 0, True
            if on_round is not None and began is not None:
                # A failed round may have left work: it does not count as an idle one.
                on_round(began, busy or int(failed))
            if not busy:
                stop.wait(self.poll)


class Rounds(NamedTuple):
    """What a scheduler on a simulated calendar reports after each completed round."""

    moment: dt.datetime  # the calendar's moment when the last completed round began
    rounds: int  # rounds completed
    busy: int  # of those, rounds that did something (sent a message, started an instance)


class RoundLog:
    """A scheduler's rounds, in a file beside the shared clock file (PROCEDO_CLOCK_FILE).

    A test that moves the simulated calendar cannot see a scheduler process's loop; this
    file tells it that a round began at or after the new moment and completed, and
    whether rounds still find work (tests/cluster.py ``Cluster.settle``). Only written
    when a clock file is set, never in production.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rounds = 0
        self.busy = 0

    @staticmethod
    def path_for(clock_file: Path, pid: int) -> Path:
        return clock_file.with_name(f"{clock_file.name}.scheduler-{pid}")

    def __call__(self, began: dt.datetime, done: int) -> None:
        self.rounds += 1
        self.busy += done > 0
        record = {"moment": began.isoformat(), "rounds": self.rounds, "busy": self.busy}
        draft = self.path.with_name(self.path.name + ".next")
        draft.write_text(json.dumps(record), encoding="ascii")
        os.replace(draft, self.path)  # a reader never sees half a record

    @staticmethod
    def read(path: Path) -> Rounds | None:
        """The last record, or None before the first round completed."""
        try:
            record = json.loads(path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        return Rounds(dt.datetime.fromisoformat(record["moment"]), record["rounds"], record["busy"])
