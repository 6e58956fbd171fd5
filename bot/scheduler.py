"""The durable scheduler: jobs in SQLite, one runner task, handlers registered by kind.

Each kind of job is declared once as a ``JobKind`` (``bot.domain.jobs``): its payload dataclass,
retry policy, lateness rule and the sentence moderators get if it gives up. A feature registers a
handler for its kinds when it loads and unregisters it when it unloads; jobs of kinds nobody has
registered wait, untouched.

The runner asks the database for the earliest pending job of a registered kind and sleeps until
then (or at most ``max_sleep``, to stay honest if the wall clock jumps). Scheduling an earlier
job, or a handler finishing, wakes it early. A due job is claimed (``running``, attempt counted)
in one transaction, its payload parsed into its kind's dataclass, handed to its handler, and only
marked ``done`` once the handler returns; follow-up jobs the handler returns (the next weekly
digest, say) are inserted in that same transaction, which jobs finishing together share (a group
commit: a burst costs one commit per batch, not one a job). A payload that does not parse fails that job
at once (retrying cannot fix it). A failing handler is retried by its kind's policy and then
recorded as ``failed``; either way the failure hooks are told (the client tells the server's
moderators). On start, jobs a crash left ``running`` go back to ``pending``; a job overdue by more
than its kind's ``max_lateness`` is skipped, and its kind's skip hook is called.

Callers that change their own rows and their jobs together (a party moved to another time moves
its reminders) use the ``*_in`` methods inside their open ``db.transaction()``: the job change
commits or rolls back with theirs. Those methods wake the runner at once, before the commit; that
is harmless, because the runner can only read once the caller's transaction has released the
connection, and then reads what was committed.

Delivery is at-least-once: a crash after a handler's side effect but before ``done`` is committed
runs it again, so handlers that touch Discord check before they act, and ``dedupe_key`` makes
"the digest for guild G, week W" a single job no matter how often it is scheduled.

Kept as one module (about 520 lines): the registry, the runner and the in-transaction operations
share the wake-up event and the registration table, and are read together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

import aiosqlite

from bot.clock import Clock, SystemClock
from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.domain.jobs import (
    Job,
    JobKind,
    JobSpec,
    JobStatus,
    NoPayload,
    PayloadError,
    RetryPolicy,
    decode_payload,
    is_stale,
)
from bot.domain.timeutil import from_epoch, to_epoch

log = logging.getLogger(__name__)

P = TypeVar("P")

JobHandler = Callable[[Job[P]], Awaitable[Iterable[JobSpec] | None]]
SkipHook = Callable[[Job[P]], Awaitable[None]]
FailureHook = Callable[[Job[Any], str], Awaitable[None]]


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help (the channel was deleted, say)."""


@dataclass(frozen=True, slots=True)
class Registration:
    kind: JobKind[Any]
    handler: JobHandler[Any]
    on_skip: SkipHook[Any] | None
    on_give_up: FailureHook | None = None


@dataclass(frozen=True, slots=True)
class Scheduled:
    """The outcome of ``schedule``: the job's id, and whether this call created it."""

    job_id: int
    created: bool


@dataclass(slots=True)
class RunnerStats:
    """Counters that let tests (and ``/about``-style diagnostics) see what the runner did."""

    wakeups: int = 0
    claimed: int = 0
    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


class Scheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        *,
        max_attempts: int = 5,
        base_backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(hours=1),
        concurrency: int = 8,
        max_sleep: timedelta = timedelta(hours=1),
        gate: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._db = db
        self.clock: Clock = clock or SystemClock()
        # For kinds that declare no retry policy of their own.
        self.default_retry = RetryPolicy.exponential(
            base_backoff, max_backoff, retries=max_attempts - 1
        )
        self.concurrency = concurrency
        self.max_sleep = max_sleep
        self._gate = gate
        self._handlers: dict[str, Registration] = {}
        self._failure_hooks: list[FailureHook] = []
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._completions: list[_Completion] = []
        self._recorder: asyncio.Task[None] | None = None
        self.stats = RunnerStats()

    # -- registration ---------------------------------------------------------------------

    def register(
        self,
        kind: JobKind[P],
        handler: JobHandler[P],
        *,
        on_skip: SkipHook[P] | None = None,
        on_give_up: FailureHook | None = None,
    ) -> None:
        """Route jobs of ``kind`` to ``handler`` (skipped ones to ``on_skip``, and ones that
        gave up for good to ``on_give_up``, before the failure hooks every kind shares). Each
        kind brings its payload dataclass, retry policy and lateness rule; a name is
        registered once."""
        if kind.name in self._handlers:
            raise ValueError(f"a handler for job kind {kind.name!r} is already registered")
        self._handlers[kind.name] = Registration(kind, handler, on_skip, on_give_up)
        self._wake.set()

    def unregister(self, kind: JobKind[Any]) -> None:
        """Stop running ``kind`` (its feature unloaded); its jobs wait for the next register."""
        self._handlers.pop(kind.name, None)

    def kind(self, name: str) -> JobKind[Any] | None:
        """The registered kind called ``name``, if any."""
        registration = self._handlers.get(name)
        return None if registration is None else registration.kind

    def on_failure(self, hook: FailureHook) -> None:
        """Call ``hook(job, error)`` when a job gives up for good."""
        self._failure_hooks.append(hook)

    # -- scheduling -------------------------------------------------------------------------

    @overload
    async def schedule(
        self,
        kind: JobKind[P],
        run_at: datetime,
        payload: P,
        dedupe_key: str | None = None,
        *,
        guild_id: int | None = None,
    ) -> Scheduled: ...

    @overload
    async def schedule(
        self,
        kind: JobKind[NoPayload],
        run_at: datetime,
        payload: None = None,
        dedupe_key: str | None = None,
        *,
        guild_id: int | None = None,
    ) -> Scheduled: ...

    async def schedule(
        self,
        kind: JobKind[Any],
        run_at: datetime,
        payload: object = None,
        dedupe_key: str | None = None,
        *,
        guild_id: int | None = None,
    ) -> Scheduled:
        """Store a job to run at ``run_at`` (aware), in a transaction of its own. Idempotent per
        ``dedupe_key``. The payload is the kind's dataclass (none for ``NoPayload``)."""
        if payload is None and kind.payload is NoPayload:
            payload = NoPayload()
        spec = kind.spec(run_at, payload, dedupe_key, guild_id=guild_id)
        async with self._db.transaction() as conn:
            job_id, created = await jobs_repo.insert_job(conn, spec, self._now_epoch())
        self._wake.set()
        return Scheduled(job_id, created)

    async def schedule_all(self, specs: Iterable[JobSpec]) -> list[Scheduled]:
        """Store ``specs`` (built with ``JobKind.spec``) in one transaction."""
        async with self._db.transaction() as conn:
            scheduled = [await self.schedule_in(conn, spec) for spec in specs]
        return scheduled

    async def schedule_in(self, conn: aiosqlite.Connection, spec: JobSpec) -> Scheduled:
        """Insert ``spec`` (build it with ``JobKind.spec``) inside the caller's open transaction,
        so it commits or rolls back with the caller's other writes."""
        job_id, created = await jobs_repo.insert_job(conn, spec, self._now_epoch())
        self._wake.set()
        return Scheduled(job_id, created)

    async def reschedule_in(
        self, conn: aiosqlite.Connection, dedupe_key: str, run_at: datetime
    ) -> bool:
        """Move the pending job keyed ``dedupe_key`` to ``run_at`` inside the caller's open
        transaction (its attempts start again from 0). False if no such job is pending (it ran,
        failed or was cancelled): schedule a new one if that is what you want."""
        moved = await jobs_repo.reschedule_job(
            conn, dedupe_key, to_epoch(run_at), self._now_epoch()
        )
        if moved:
            self._wake.set()
        return moved

    async def cancel_in(
        self,
        conn: aiosqlite.Connection,
        job_id: int | None = None,
        *,
        dedupe_key: str | None = None,
    ) -> bool:
        """Cancel a pending job inside the caller's open transaction; False if none was pending.
        A cancelled job's ``dedupe_key`` can be scheduled again."""
        cancelled = await jobs_repo.cancel_job(
            conn, self._now_epoch(), job_id=job_id, dedupe_key=dedupe_key
        )
        if cancelled:
            self._wake.set()
        return cancelled

    async def cancel(self, job_id: int | None = None, *, dedupe_key: str | None = None) -> bool:
        """Cancel a pending job in a transaction of its own; False if there was none."""
        async with self._db.transaction() as conn:
            return await self.cancel_in(conn, job_id, dedupe_key=dedupe_key)

    async def cancel_guild_jobs(self, guild_id: int) -> int:
        """Cancel every pending job of a server (the bot was removed from it); returns how many.
        Jobs already running finish or fail on their own."""
        async with self._db.transaction() as conn:
            cancelled = await jobs_repo.cancel_guild_jobs(conn, guild_id, self._now_epoch())
        if cancelled:
            self._wake.set()
        return cancelled

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def start(self) -> None:
        """Recover jobs a crash left running, then start the runner. A second call does nothing."""
        if self.running:
            return
        async with self._db.transaction() as conn:
            requeued = await jobs_repo.requeue_running(conn, self._now_epoch())
        if requeued:
            log.warning("Requeued %d job(s) left running by an earlier process", requeued)
        self._runner = asyncio.create_task(self._run(), name="scheduler-runner")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming work, give running handlers ``grace`` seconds, then interrupt them.

        An interrupted job goes back to ``pending`` (if the database still answers; otherwise
        the next start requeues it)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        in_flight = list(self._in_flight.values())
        if in_flight:
            _, pending = await asyncio.wait(in_flight, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._recorder is not None:  # handlers that returned are recorded as done
            await asyncio.gather(self._recorder, return_exceptions=True)

    async def run_due(self) -> int:
        """Run every job due now, one at a time, and return how many ran. For tests and tools
        that drive the clock themselves instead of starting the runner."""
        ran = 0
        while True:
            async with self._db.transaction() as conn:
                due = await jobs_repo.claim_due(conn, list(self._handlers), self._now_epoch(), 1)
            if not due:
                return ran
            self.stats.claimed += 1
            await self._execute(due[0])
            ran += 1

    # -- the runner ------------------------------------------------------------------------

    async def _run(self) -> None:
        if self._gate is not None:
            await self._gate()
        while True:
            try:
                await self._dispatch_loop()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Scheduler runner failed; trying again in 5 seconds")
                await self._sleep_or_wake(5.0)

    async def _dispatch_loop(self) -> None:
        while True:
            self._wake.clear()
            free = self.concurrency - len(self._in_flight)
            if free > 0 and self._handlers:
                kinds = list(self._handlers)
                async with self._db.transaction() as conn:
                    due = await jobs_repo.claim_due(conn, kinds, self._now_epoch(), free)
                for job in due:
                    self.stats.claimed += 1
                    task = asyncio.create_task(self._execute(job), name=f"job-{job.id}-{job.kind}")
                    self._in_flight[job.id] = task
                if len(due) == free:
                    continue  # there may be more due work than slots we had
            if free <= 0 or not self._handlers:
                await self._wake.wait()
                continue
            async with self._db.read() as conn:
                next_at = await jobs_repo.next_run_at(conn, list(self._handlers))
            self.stats.wakeups += 1
            if next_at is None:
                await self._wake.wait()
            else:
                delay = next_at - self.clock.now().timestamp()
                await self._sleep_or_wake(min(delay, self.max_sleep.total_seconds()))

    async def _sleep_or_wake(self, seconds: float) -> None:
        if seconds <= 0:
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _execute(self, job: Job[str]) -> None:
        registration = self._handlers.get(job.kind)
        try:
            if registration is None:  # unregistered between claim and run
                await self._release(job)
                return
            await self._run_registered(registration, job)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database itself failed while recording the outcome; the job stays running and
            # is requeued at the next start.
            log.exception("Could not record the outcome of job %d (%s)", job.id, job.kind)
        finally:
            self._in_flight.pop(job.id, None)
            self._wake.set()

    async def _run_registered(self, registration: Registration, stored: Job[str]) -> None:
        kind = registration.kind
        try:
            job: Job[Any] = stored.with_payload(decode_payload(kind.payload, stored.payload))
        except PayloadError as exc:
            await self._give_up(stored, str(exc))
            return
        if is_stale(job.run_at, self.clock.now(), kind.max_lateness):
            await self._finish(job, "skipped", "too late to run: its moment has passed")
            self.stats.skipped += 1
            log.info("Skipped stale job %d (%s) due %s", job.id, job.kind, job.run_at)
            if registration.on_skip is not None:
                try:
                    await registration.on_skip(job)
                except Exception:
                    log.exception("Skip hook of job %d (%s) raised", job.id, job.kind)
            return
        try:
            follow_ups = await registration.handler(job)
        except asyncio.CancelledError:
            await self._release(job)
            raise
        except PermanentJobError as exc:
            await self._give_up(job, _describe(exc))
        except Exception as exc:
            log.warning(
                "Job %d (%s) attempt %d failed", job.id, job.kind, job.attempts, exc_info=True
            )
            policy = kind.retry or self.default_retry
            if policy.gives_up_after(job.attempts):
                await self._give_up(job, _describe(exc))
            else:
                await self._retry(job, _describe(exc), policy.delay_after(job.attempts))
        else:
            await self._complete(job, list(follow_ups or ()))

    async def _complete(self, job: Job[Any], follow_ups: list[JobSpec]) -> None:
        """Mark ``job`` done and insert its follow-ups; return once that is committed.

        One recorder task writes completions, all those waiting in one transaction, so jobs that
        finish while it writes share the next (a group commit): in a burst, one commit for up to
        ``concurrency`` jobs instead of one each, and the runner, woken once for all of them,
        claims their successors together. That halves the time a burst takes to start."""
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._completions.append(_Completion(job, follow_ups, recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(
                self._record_completions(), name="scheduler-completions"
            )
        await recorded
        self.stats.succeeded += 1

    async def _record_completions(self) -> None:
        """Record waiting completions until none are left. If a batch fails, each of its
        completions is tried alone, so a follow-up that cannot be stored fails only its job."""
        batch: list[_Completion] = []
        try:
            while self._completions:
                batch = []
                try:
                    async with self._db.transaction() as conn:
                        batch, self._completions = self._completions, []
                        await self._write_completions(conn, batch)
                except Exception:
                    if not batch:  # the transaction did not begin
                        batch, self._completions = self._completions, []
                    for completion in batch:
                        await self._record_alone(completion)
                else:
                    for completion in batch:
                        completion.settle(None)
        except BaseException:  # cancelled: nobody may wait for ever
            for completion in [*batch, *self._completions]:
                completion.recorded.cancel()
            self._completions = []
            raise

    async def _record_alone(self, completion: _Completion) -> None:
        try:
            async with self._db.transaction() as conn:
                await self._write_completions(conn, [completion])
        except Exception as exc:
            completion.settle(exc)
        else:
            completion.settle(None)

    async def _write_completions(
        self, conn: aiosqlite.Connection, completions: list[_Completion]
    ) -> None:
        now = self._now_epoch()
        await jobs_repo.finish_jobs(conn, [c.job.id for c in completions], "done", now)
        for completion in completions:
            for spec in completion.follow_ups:
                await jobs_repo.insert_job(conn, spec, now)

    async def _retry(self, job: Job[Any], error: str, delay: timedelta) -> None:
        run_at = to_epoch(self.clock.now() + delay)
        async with self._db.transaction() as conn:
            await jobs_repo.retry_job(conn, job.id, run_at, error, self._now_epoch())
        self.stats.retried += 1
        log.info("Job %d (%s) will retry at %s", job.id, job.kind, from_epoch(run_at))

    async def _give_up(self, job: Job[Any], error: str) -> None:
        await self._finish(job, "failed", error)
        self.stats.failed += 1
        log.error(
            "Job %d (%s) failed after %d attempt(s): %s", job.id, job.kind, job.attempts, error
        )
        registration = self._handlers.get(job.kind)
        own = registration.on_give_up if registration is not None else None
        for hook in ([own] if own is not None else []) + self._failure_hooks:
            try:
                await hook(job, error)
            except Exception:
                log.exception("Job failure hook %r raised", hook)

    async def _finish(self, job: Job[Any], status: JobStatus, error: str | None) -> None:
        async with self._db.transaction() as conn:
            await jobs_repo.finish_job(conn, job.id, status, self._now_epoch(), error)

    async def _release(self, job: Job[Any]) -> None:
        with contextlib.suppress(Exception):
            async with self._db.transaction() as conn:
                await jobs_repo.release_job(conn, job.id, self._now_epoch())

    def _now_epoch(self) -> int:
        return int(self.clock.now().timestamp())


@dataclass(frozen=True, slots=True)
class _Completion:
    """A job whose handler succeeded, waiting to be recorded as done."""

    job: Job[Any]
    follow_ups: list[JobSpec]
    recorded: asyncio.Future[None]

    def settle(self, error: Exception | None) -> None:
        if self.recorded.done():  # its task was cancelled while it waited
            return
        if error is None:
            self.recorded.set_result(None)
        else:
            self.recorded.set_exception(error)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 1000 else text[:999] + "…"
