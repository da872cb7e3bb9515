"""The deliverer: follows the log and POSTs each event a subscription receives to its URL,
signed (Standard Webhooks), at least once, in log order per case.

One cursor per subscription (`adapters.webhooks.state`), one task per subscription, one HTTP
connection pool per subscription (`adapters.webhooks.client`): an endpoint that fails or answers slowly holds back only its
own subscription. Within a subscription, a batch of the log is delivered case by case
concurrently (`concurrency` cases at once), each case's events one after the other; the cursor
moves past the batch once every event in it was delivered or set aside as a dead letter (the
next batch is read from the log meanwhile). A
deliverer killed mid-batch sends that batch again when it restarts: the same `webhook-id`s, so
a receiver drops the duplicates.

Retries: a try that fails (an answer other than 2xx, a timeout, a refused connection) is tried
again after `backoff` seconds, doubling each time up to `backoff_max`; after `attempts` tries
the delivery is a dead letter and the case's later events go on. With the defaults (10 tries,
2 s doubling up to 5 min) a delivery is given up after about 14 minutes.
"""

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import structlog

from adapters.eventlog.reading import IllegibleEvent, read_batch
from adapters.eventlog.store import Parcours
from adapters.identity import Identite, IdentityStore
from adapters.webhooks import payloads
from adapters.webhooks.client import HTTPError, Lane
from adapters.webhooks.signing import Sealer, headers, secret_key
from adapters.webhooks.state import DeadLetter, DeliveryState
from domain.abonnements import ABONNEMENTS_ID, Abonnement, Abonnements, Finalite
from domain.events import Recorded

log = structlog.get_logger(__name__)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """How deliveries are tried; each field from `PARCOURS_WEBHOOKS_<FIELD>`."""

    attempts: int = 10
    """Tries of one delivery before it is a dead letter."""
    backoff: float = 2.0
    """Seconds before the second try; doubled before each next one."""
    backoff_max: float = 300.0
    timeout: float = 10.0
    """Seconds a receiver has to answer one delivery."""
    concurrency: int = 16
    """Cases of one subscription delivered at once (and its HTTP connections)."""
    batch: int = 500
    """Events of the log read at a time."""
    poll: float = 1.0
    """Seconds between two looks at the log, or at the subscriptions, when nothing is new."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Policy":
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in cls.__struct_fields__:
            raw = env.get(f"PARCOURS_WEBHOOKS_{name.upper()}")
            if raw is not None:
                values[name] = raw
        return msgspec.convert(values, cls, strict=False)


@contextlib.asynccontextmanager
async def lanes(policy: Policy) -> AsyncIterator["asyncio.Queue[Lane]"]:
    """`concurrency` keep-alive connections (`adapters.webhooks.client`), handed out one per
    case being delivered: a case's events go one after the other on one connection."""
    pool = [Lane(policy.timeout) for _ in range(policy.concurrency)]
    queue: asyncio.Queue[Lane] = asyncio.Queue()
    for lane in pool:
        queue.put_nowait(lane)
    try:
        yield queue
    finally:
        for lane in pool:
            await lane.close()


def subscriptions(app: Parcours) -> Abonnements:
    return Abonnements(r.event for r in app.history(ABONNEMENTS_ID))


Batch = tuple[list[Recorded], IllegibleEvent | None]
"""A batch read from the log: its legible events, or the illegible event that comes first."""


class Stopped(Exception):
    """The deliverer is stopping: the batch under way is left for the next start."""


@dataclass
class Tally:
    delivered: int = 0
    last_error: str | None = None
    dead: list[DeadLetter] = field(default_factory=list)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class Deliverer:
    """Every active subscription's task, started and ended as the register changes."""

    def __init__(self, app: Parcours, policy: Policy | None = None) -> None:
        self.app = app
        self.policy = policy or Policy.from_env()
        self.state = DeliveryState(app.settings)
        self.sealer = Sealer(app.settings)
        self._vault: IdentityStore | None = None

    def _identities(self) -> IdentityStore:
        """The identity vault, opened when a subscription whose purpose is identification
        first needs it (the others never touch it)."""
        if self._vault is None:
            self._vault = IdentityStore(self.app.settings)
        return self._vault

    async def run(self, stop: asyncio.Event) -> None:
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                try:
                    active = {
                        s.abonnement_id: s
                        for s in (await asyncio.to_thread(subscriptions, self.app)).actifs()
                    }
                except Exception:
                    log.exception("webhooks.register_unreadable")
                    await _pause(stop, self.policy.poll)
                    continue
                for ended in [i for i in tasks if i not in active]:
                    tasks.pop(ended).cancel()
                    log.info("webhooks.subscription_ended", abonnement=ended)
                for i, subscription in active.items():
                    task = tasks.get(i)
                    if task is not None and task.done() and not task.cancelled():
                        log.error(
                            "webhooks.subscription_failed",
                            abonnement=i,
                            error=str(task.exception()),
                        )
                    if i not in tasks or tasks[i].done():
                        tasks[i] = asyncio.create_task(self.follow(subscription, stop))
                await _pause(stop, self.policy.poll)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            if self._vault is not None:
                self._vault.close()

    async def follow(self, subscription: Abonnement, stop: asyncio.Event) -> None:
        """Deliver one subscription's events until `stop`; no error ends it (logged, then
        tried again after a pause that grows with the failures in a row)."""
        name = subscription.abonnement_id
        key = secret_key(self.sealer.open(subscription.secret_scelle, name))
        reach = payloads.Reach(self.app, subscription)
        reached: int | None = None
        errors = 0
        ahead: tuple[int, asyncio.Task[Batch]] | None = None
        async with lanes(self.policy) as clients:
            try:
                while not stop.is_set():
                    try:
                        position = await asyncio.to_thread(
                            self.state.start, name, subscription.position_depart
                        )
                        if position != reached:
                            reach.forget()  # a replay moved the cursor: refold from the log
                        if ahead is not None and ahead[0] == position:
                            records, illegible = await ahead[1]
                        else:
                            if ahead is not None:  # read from where the cursor no longer is
                                await asyncio.gather(ahead[1], return_exceptions=True)
                            records, illegible = await asyncio.to_thread(self._read, position)
                        ahead = None
                        if not records and illegible is None:
                            reached = position
                            errors = 0
                            await _pause(stop, self.policy.poll)
                            continue
                        tally = Tally()
                        if records:
                            chosen = await asyncio.to_thread(reach.select, records, position)
                            last = records[-1].position
                            # the next batch is read while this one is sent (used if the cursor
                            # is then where this batch ends, that is unless a replay moved it)
                            ahead = (last, asyncio.create_task(asyncio.to_thread(self._read, last)))
                            await self._deliver(clients, subscription, key, chosen, tally, stop)
                        else:
                            assert illegible is not None
                            tally.dead.append(_illegible(illegible))
                            last = illegible.position
                        moved = await asyncio.to_thread(
                            self.state.advance,
                            name,
                            position,
                            last,
                            tally.delivered,
                            tally.last_error,
                            tally.dead,
                        )
                        reached = last if moved else None
                        errors = 0
                    except Stopped:
                        break
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        errors += 1
                        log.exception("webhooks.follow_failed", abonnement=name, errors=errors)
                        reached = None
                        await _pause(stop, min(30.0, self.policy.poll * 2 ** min(errors, 5)))
            finally:
                if ahead is not None:  # no read left running against a store about to close
                    await asyncio.gather(ahead[1], return_exceptions=True)

    def _read(self, position: int) -> "Batch":
        """The next batch; or the events before an illegible one; or, when it comes first,
        that event alone (set aside: no partner can be sent what no one can read)."""
        try:
            return read_batch(self.app, position, self.policy.batch), None
        except IllegibleEvent as e:
            before = read_batch(self.app, position, self.policy.batch, stop=e.position - 1)
            return before, None if before else e

    async def _deliver(
        self,
        clients: "asyncio.Queue[Lane]",
        subscription: Abonnement,
        key: bytes,
        chosen: list[Recorded],
        tally: Tally,
        stop: asyncio.Event,
    ) -> None:
        by_case: dict[UUID, list[Recorded]] = {}
        for record in chosen:
            by_case.setdefault(record.originator_id, []).append(record)

        people: dict[UUID, Identite] = {}
        if subscription.finalite is Finalite.IDENTIFICATION and by_case:
            people = await asyncio.to_thread(self._identities().read_many, list(by_case))

        async def one_case(records: list[Recorded]) -> None:
            client = await clients.get()  # a free lane: at most `concurrency` cases at once
            try:
                for record in records:
                    identity = people.get(record.originator_id)
                    await self._send(client, subscription, key, record, identity, tally, stop)
            finally:
                clients.put_nowait(client)

        results = await asyncio.gather(
            *(one_case(records) for records in by_case.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _send(
        self,
        client: Lane,
        subscription: Abonnement,
        key: bytes,
        record: Recorded,
        identity: Identite | None,
        tally: Tally,
        stop: asyncio.Event,
    ) -> None:
        body = payloads.body(subscription, record, identity)
        msg_id = payloads.webhook_id(subscription.abonnement_id, record)
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            if stop.is_set():
                raise Stopped
            timestamp = int(time.time())
            try:
                code = await client.post(
                    subscription.url, body, headers(key, msg_id, timestamp, body)
                )
                if 200 <= code < 300:
                    tally.delivered += 1
                    return
                error = f"HTTP {code}"
            except HTTPError as e:
                error = str(e)
            tally.last_error = error
            await asyncio.to_thread(self.state.note_failure, subscription.abonnement_id, error)
            log.warning(
                "webhooks.attempt_failed",
                abonnement=subscription.abonnement_id,
                webhook_id=msg_id,
                attempt=attempt,
                error=error,
            )
            if attempt < policy.attempts:
                await _pause(stop, min(policy.backoff * 2 ** (attempt - 1), policy.backoff_max))
        tally.dead.append(
            DeadLetter(
                webhook_id=msg_id,
                position=record.position,
                dossier_id=str(record.originator_id),
                type=type(record.event).__name__,
                tentatives=policy.attempts,
                erreur=tally.last_error or "",
                le=datetime.now(UTC),
            )
        )
        log.error("webhooks.dead_letter", abonnement=subscription.abonnement_id, webhook_id=msg_id)


def _illegible(e: IllegibleEvent) -> DeadLetter:
    return DeadLetter(
        webhook_id=f"illisible-{e.position}",
        position=e.position,
        dossier_id=str(e.case_id),
        type=e.topic,
        tentatives=0,
        erreur=str(e)[:500],
        le=datetime.now(UTC),
    )


def send_test(app: Parcours, subscription: Abonnement, timeout: float = 10.0) -> tuple[str, str]:
    """POST one signed `webhook.test` message to the subscription's URL, once (no retry, no
    cursor moved): its id, and the receiver's answer or the error."""
    key = secret_key(
        Sealer(app.settings).open(subscription.secret_scelle, subscription.abonnement_id)
    )
    now = datetime.now(UTC)
    msg_id = f"msg_test_{int(now.timestamp() * 1000)}"
    body = msgspec.json.encode(
        {
            "type": "webhook.test",
            "timestamp": now.isoformat(),
            "data": {"abonnement_id": subscription.abonnement_id},
        }
    )

    async def post() -> int:
        lane = Lane(timeout)  # the deliveries' own client: same TLS, same answers read
        try:
            return await lane.post(
                subscription.url, body, headers(key, msg_id, int(now.timestamp()), body)
            )
        finally:
            await lane.close()

    try:
        # Its own thread and loop: a caller already inside an event loop (an async route,
        # a test driving a browser) cannot start another one in its thread.
        with ThreadPoolExecutor(max_workers=1) as apart:
            code = apart.submit(asyncio.run, post()).result()
    except HTTPError as e:
        return msg_id, str(e)
    return msg_id, f"HTTP {code}"
