"""Plain list+watch streams that feed the controllers' caches, one per watched kind, as client-go's reflector does.

kopf's watch path puts every event of every object through its per-object machinery — a memory lookup, a body
wrapper, three loggers, a cause, a handler invocation with its context and progress records — around handlers
that only pass the object on to a cache (``fleet-1000-profile.md``: 42.9 % of the controller's CPU at 1,000
Rollouts). An ``Informer`` lists a kind (page by page), hands each object to its observers, then watches from the
list's resourceVersion (with bookmarks, so a quiet kind resumes from a recent version), and re-lists when the server
answers 410 Gone: objects that vanished meanwhile are delivered as DELETED, changed ones once, unchanged ones not
at all (a deleted one as its kind, name, uid and owners). A stream the server ends is resumed; a failure is retried
with a growing delay. kopf stays the operator shell (start-up, clean-up); ``Informers`` is started by it and shares
one stream per kind between controllers.

The streams' first lists are also what fills the controllers' caches at start-up (client-go's "list, then watch from
the list's resourceVersion; wait for caches to sync"): a controller waits for ``Informers.listed`` of its kinds
before its workers start, so each kind is listed once for the whole process, and no second copy of the cluster is
held while the first is indexed.

Observers get what kopf's ``on.event`` handlers got: the event type (``None`` for an object seen by listing) and
the object as the API sent it. They run on the event loop and must not block.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

import httpx

from kube.errors import ApiError, api_error
from kube.json_data import JsonObject
from kube.resources import ResourceKind
from kube.watch_events import DELETED
from kube.work_queue import cancel_tasks

logger = logging.getLogger(__name__)

Observer = Callable[[str | None, JsonObject], None]
"""Called with the event type (ADDED, MODIFIED, DELETED; None for an object seen by listing) and the object."""

# The server ends a watch after this long (API servers cut them at 5–10 minutes anyway); resuming costs one request.
WATCH_SERVER_TIMEOUT: Final = 300
# No event, not even a bookmark, for this long beyond the server's own timeout means the connection is dead.
WATCH_READ_TIMEOUT: Final = WATCH_SERVER_TIMEOUT + 30.0
RETRY_DELAYS: Final = (0.5, 1.0, 2.0, 5.0)
"""Seconds before the next try after the 1st, 2nd, 3rd, … failure in a row (a kind whose CRD is not installed is
tried again every 5 s, so its watch starts soon after the CRD appears)."""
# Objects (or watch events) delivered between two turns of the event loop: a re-list of ten thousand objects, or a
# chunk of many events, must not hold the probes and the workers for its whole length.
DELIVERY_SLICE: Final = 200
# Objects per list request (client-go's pager asks for 500): ten thousand Rollouts are never one response body, nor
# one decoded list beside the cache they fill.
LIST_PAGE_SIZE: Final = 500
# Answers to a first list that will not change by retrying soon: a kind not served yet (its CRD absent) or not
# permitted. A controller's start does not wait for such a kind (its stream keeps trying in the background).
SETTLING_CODES: Final = frozenset({403, 404})

_ObjectKey = tuple[str, str]


class WatchExpired(Exception):
    """The server no longer holds the resourceVersion the watch resumed from (410 Gone): list again."""


def _key(obj: JsonObject) -> _ObjectKey:
    metadata = obj.get("metadata") or {}
    return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _version(obj: JsonObject) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class Informer:
    """One kind (in one namespace, or everywhere; optionally with a label selector) listed and watched into its
    observers. ``synced`` is set once the first list has been delivered; ``first_list_done`` too, or once the first
    list was refused as not served or not permitted (``SETTLING_CODES``); ``lists`` counts the lists made;
    ``answered`` is set once the first list has been delivered or has failed, and ``error`` is the last failure
    until a list or a watch succeeds again."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        kind: ResourceKind,
        observers: Iterable[Observer] = (),
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.http = http
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.observers: list[Observer] = list(observers)
        self.synced = asyncio.Event()
        self.first_list_done = asyncio.Event()
        self.lists = 0
        self.answered = asyncio.Event()
        self.error: Exception | None = None
        self._retry_delays = retry_delays
        # What identifies each object the observers were last given, by (namespace, name): a re-list compares
        # against it. Not the object (nor its whole metadata, managedFields included): the kinds no cache keeps —
        # Events — must not stay in memory for this.
        self._known: dict[_ObjectKey, JsonObject] = {}
        self._resource_version = ""
        self._task: asyncio.Task[None] | None = None
        self._failure: str | None = None
        self._join_lock = asyncio.Lock()
        self._stops = 0

    @property
    def where(self) -> str:
        scope = f" in {self.namespace}" if self.namespace else ""
        selector = f" ({self.label_selector})" if self.label_selector else ""
        return f"{self.kind.plural}.{self.kind.group or 'core'}{scope}{selector}"

    def start(self) -> None:
        """Start listing and watching in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"informer {self.where}")

    async def stop(self) -> None:
        """End the stream and wait until it has ended; nothing is delivered afterwards."""
        self._stops += 1
        await self._pause()

    async def _pause(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_tasks([task])

    async def join(self, observer: Observer) -> None:
        """Give ``observer`` this stream's objects and events from now on, though the stream may be open already.

        It is first given every object, as listed, by a list of its own; the stream is paused meanwhile and resumes
        with a list, so that no change falls between the two: the other observers are given only what that list
        finds changed (deletions included). Raises what the list raised (the observer is not added then)."""
        async with self._join_lock:  # one at a time: a second join must not resume the stream under the first
            was_running, stops = self._task is not None, self._stops
            await self._pause()
            try:
                response = await self.http.get(self.kind.path(self.namespace), params=self._params())
                if response.status_code >= 400:
                    raise _error(response.status_code, response.text, self.where)
                for index, item in enumerate(response.json().get("items") or (), 1):
                    _deliver_to(observer, None, self.kind.manifest(item), self.where)
                    if index % DELIVERY_SLICE == 0:
                        await asyncio.sleep(0)
                self.observers.append(observer)
                self._resource_version = ""  # resumed with a list: nothing between the two lists is missed
            finally:
                if was_running and self._stops == stops:  # not if stopped meanwhile
                    self.start()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if not self._resource_version:
                    await self._list()
                    self._succeeded()
                await self._watch()
                failures = 0
            except WatchExpired:
                logger.debug("watch of %s expired at resourceVersion %s; listing again", self.where,
                             self._resource_version)
                self._resource_version = ""
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure (or an observer's bug) is retried, never fatal
                self._fail(error)
                if isinstance(error, ApiError) and error.code in SETTLING_CODES:
                    self.first_list_done.set()  # as if listed empty: nobody waits for a kind it cannot see
                await asyncio.sleep(self._retry_delays[min(failures, len(self._retry_delays) - 1)])
                failures += 1

    def _fail(self, error: Exception) -> None:
        if isinstance(error, ApiError) and error.code == 404:
            message = f"{self.where} are not served by this cluster; watching once they are"
        else:
            message = f"cannot watch {self.where}: {type(error).__name__}: {error}"
        if message != self._failure:
            if isinstance(error, (ApiError, httpx.HTTPError, WatchExpired)):
                logger.warning("%s", message)
            else:
                logger.exception("%s", message)
        self._failure = message
        self.error = error
        self.answered.set()

    def _succeeded(self) -> None:
        """The server answered a list, or opened a watch: no failure stands."""
        self.error = None
        self.answered.set()

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        return params

    async def _list(self) -> None:
        """List every object, page by page (``limit``/``continue``), delivering each page's new and changed objects
        as it arrives, then the objects that vanished since the last list; the watch then starts from the first
        page's resourceVersion. (A server that keeps no snapshot across pages, as the sandbox's, may answer a later
        page with newer objects; watching from the first page's version then repeats their events, which observers
        take as echoes of what they hold — never loses one.)"""
        listed: set[_ObjectKey] = set()
        resource_version = ""
        continue_token = ""
        delivered = 0
        while True:
            page = {"limit": str(LIST_PAGE_SIZE), **({"continue": continue_token} if continue_token else {})}
            response = await self.http.get(self.kind.path(self.namespace), params=self._params(**page))
            if response.status_code == 410 and continue_token:
                raise WatchExpired(response.text)  # the continue token expired: list again from the start
            if response.status_code >= 400:
                raise _error(response.status_code, response.text, self.where)
            body = response.json()
            metadata = body.get("metadata") or {}
            resource_version = resource_version or str(metadata.get("resourceVersion") or "")
            for raw in body.get("items") or ():
                item = self.kind.manifest(raw)
                key = _key(item)
                listed.add(key)
                known = self._known.get(key)
                if known is not None and _version({"metadata": known}) == _version(item):
                    continue  # the observers have this version already
                self._known[key] = _identity(item)
                delivered += 1
                self._deliver(None, item)
                if delivered % DELIVERY_SLICE == 0:
                    await asyncio.sleep(0)
            continue_token = str(metadata.get("continue") or "")
            if not continue_token:
                break
            await asyncio.sleep(0)  # a page's decoding is a turn's work: the next waits for the loop's other work
        for key in [key for key in self._known if key not in listed]:
            delivered += 1
            self._deliver(DELETED, self._tombstone(self._known.pop(key)))
            if delivered % DELIVERY_SLICE == 0:
                await asyncio.sleep(0)
        self.lists += 1
        self._resource_version = resource_version
        self._failure = None
        self.synced.set()
        self.first_list_done.set()

    async def _watch(self) -> None:
        """Deliver events until the server ends the stream (raises ``WatchExpired`` on 410 Gone)."""
        params = self._params(
            watch="true",
            allowWatchBookmarks="true",
            timeoutSeconds=str(WATCH_SERVER_TIMEOUT),
            resourceVersion=self._resource_version,
        )
        timeout = httpx.Timeout(self.http.timeout.connect, read=WATCH_READ_TIMEOUT)
        async with self.http.stream("GET", self.kind.path(self.namespace), params=params, timeout=timeout) as response:
            if response.status_code >= 400:
                text = (await response.aread()).decode(errors="replace")
                if response.status_code == 410:
                    raise WatchExpired(text)
                raise _error(response.status_code, text, self.where)
            self._succeeded()
            handled = 0
            async for line in response.aiter_lines():
                if not line:
                    continue
                self._on_event(json.loads(line))
                handled += 1
                if handled % DELIVERY_SLICE == 0:
                    await asyncio.sleep(0)

    def _on_event(self, event: JsonObject) -> None:
        event_type = str(event.get("type") or "")
        obj = event.get("object") or {}
        if event_type == "ERROR":
            # The server reports a watch's failure (410 Expired included) as an event in a 200 stream.
            if obj.get("code") == 410:
                raise WatchExpired(str(obj.get("message") or ""))
            raise _error(int(obj.get("code") or 500), json.dumps(obj), self.where)
        version = _version(obj)
        if version:
            self._resource_version = version
        if event_type == "BOOKMARK":
            return
        if event_type == DELETED:
            self._known.pop(_key(obj), None)
        else:
            self._known[_key(obj)] = _identity(obj)
        self._deliver(event_type, obj)

    def _tombstone(self, metadata: JsonObject) -> JsonObject:
        """What a re-list delivers for an object deleted while no stream was open: its kind and what identified it
        (name, namespace, uid, resourceVersion, owners), as client-go's DeletedFinalStateUnknown stands for it."""
        return {"apiVersion": self.kind.api_version, "kind": self.kind.kind, "metadata": metadata}

    def _deliver(self, event_type: str | None, obj: JsonObject) -> None:
        for observer in self.observers:
            try:
                observer(event_type, obj)
            except Exception:  # one observer's bug must not cost the others their events
                logger.exception("an observer of %s failed on %s", self.where, _key(obj))


def _deliver_to(observer: Observer, event_type: str | None, obj: JsonObject, where: str) -> None:
    try:
        observer(event_type, obj)
    except Exception:  # as ``Informer._deliver``: an observer's bug is logged, not raised
        logger.exception("an observer of %s failed on %s", where, _key(obj))


_IDENTITY_FIELDS: Final = ("name", "namespace", "uid", "resourceVersion", "ownerReferences")


def _identity(obj: JsonObject) -> JsonObject:
    """The metadata fields that identify an object and its owners (shared with the object, not copied)."""
    metadata = obj.get("metadata") or {}
    return {name: metadata[name] for name in _IDENTITY_FIELDS if name in metadata}


def _error(code: int, text: str, where: str) -> ApiError:
    try:
        status = json.loads(text)
    except ValueError:
        status = {}
    if not isinstance(status, dict):
        status = {}
    return api_error(code, str(status.get("reason") or ""), f"{where}: {status.get('message') or text[:200]}")


@dataclass
class _Subscription:
    kind: ResourceKind
    label_selector: str | None
    namespaces: tuple[str, ...] | None = None  # None: the Informers' own
    observers: list[Observer] = field(default_factory=list)
    informers: list[Informer] = field(default_factory=list)  # once opened


class Informers:
    """The process's informers: one stream per (kind, label selector) and watched namespace, shared by every
    controller that observes the kind. Started with the operator, before the controllers: their caches fill from
    the streams' first lists (``listed``). Streams whose observers gave a ``ready`` event open only once every such
    event is set (a controller that lists for itself first). A subscription may name namespaces of its own (the
    Application controllers watch their control namespace whatever the Rollouts'), and a kind may be added once the
    streams are open (``add``: the live resources the Applications turn out to use), joining the open stream of that
    kind if there is one."""

    def __init__(self, http: httpx.AsyncClient, namespaces: tuple[str, ...] = ()) -> None:
        self.http = http
        self.namespaces = namespaces
        self.informers: list[Informer] = []
        self._subscriptions: dict[tuple[ResourceKind, str | None, tuple[str, ...] | None], _Subscription] = {}
        self._ready: list[asyncio.Event] = []
        self._task: asyncio.Task[None] | None = None
        self.opened = asyncio.Event()  # set once the streams subscribed before start are open
        self._stopped = False

    def observe(
        self,
        kind: ResourceKind,
        observer: Observer,
        *,
        label_selector: str | None = None,
        ready: asyncio.Event | None = None,
        namespaces: tuple[str, ...] | None = None,
    ) -> None:
        """Give ``observer`` every event of ``kind`` (of the objects ``label_selector`` selects, in ``namespaces``:
        everywhere when empty, the Informers' own when None), from the first list on; ``ready``: the streams open only
        once it is set — never give one beside a controller that waits for the streams' first lists (``listed``)
        before it would be set. Only before ``start``."""
        if self._task is not None:
            raise RuntimeError("Informers.observe after start: the streams are already open")
        self._subscribe(kind, observer, label_selector, namespaces)
        if ready is not None and ready not in self._ready:
            self._ready.append(ready)

    async def listed(
        self, kind: ResourceKind, *, label_selector: str | None = None, namespaces: tuple[str, ...] | None = None
    ) -> None:
        """Return once the streams of ``kind`` (of the objects ``label_selector`` selects) have delivered their
        first list, in every watched namespace, to every observer — or were refused it as not served or not
        permitted, which they keep retrying in the background. What a controller fed by the streams waits for
        before its workers start (client-go's WaitForCacheSync)."""
        subscription = self._subscriptions.get((kind, label_selector, namespaces))
        if subscription is None:
            raise KeyError(f"nothing observes {kind.plural}{f' ({label_selector})' if label_selector else ''}")
        await self.opened.wait()
        for informer in subscription.informers:
            await informer.first_list_done.wait()

    async def start(self) -> None:
        """Open the streams once every ``ready`` event is set (in the background; returns at once). Idempotent."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._start_when_ready(), name="informers")

    async def _start_when_ready(self) -> None:
        for ready in self._ready:
            await ready.wait()
        for subscription in self._subscriptions.values():
            self._open(subscription)
        self.opened.set()

    async def add(
        self,
        kind: ResourceKind,
        observer: Observer,
        *,
        label_selector: str | None = None,
        namespaces: tuple[str, ...] | None = None,
    ) -> list[Informer]:
        """``observe`` at any time until ``stop`` (a kind found only at run time); its streams, once open.

        Before the streams open, ``observer`` joins the subscriptions (and this waits for ``start`` to open them).
        Once they are open, it joins the open streams of the same kind, selector and namespaces (``Informer.join``:
        a list of its own first), or gets streams of its own, opened at once — also when that list fails (a kind
        not served yet): its own streams keep trying, as any stream does. Raises RuntimeError once stopped."""
        if self._stopped:
            raise RuntimeError(f"Informers.add({kind.plural}) after stop: the streams are closed")
        if not self.opened.is_set():
            # ``_start_when_ready`` opens every subscription in one step (no await between them): this one too.
            subscription = self._subscribe(kind, observer, label_selector, namespaces)
            await self.opened.wait()
            return list(subscription.informers)
        scope = self._scope(kind, namespaces)
        for subscription in list(self._subscriptions.values()):
            if (subscription.kind, subscription.label_selector) == (kind, label_selector) and (
                    self._scope(kind, subscription.namespaces) == scope):
                try:
                    for informer in subscription.informers:
                        await informer.join(observer)
                except Exception as error:  # whatever the list raised, a stream of its own retries
                    logger.debug("cannot join the stream of %s (%s); opening one", kind.plural, error)
                    break
                return list(subscription.informers)
        added = _Subscription(kind, label_selector, namespaces, [observer])
        # Found by ``streams`` and joined by later adds, unless it stands beside the streams it could not join.
        self._subscriptions.setdefault((kind, label_selector, namespaces), added)
        return self._open(added)

    def _scope(self, kind: ResourceKind, namespaces: tuple[str, ...] | None) -> tuple[str | None, ...]:
        """The namespaces a subscription's streams watch (None: every namespace)."""
        declared = self.namespaces if namespaces is None else namespaces
        return (declared or (None,)) if kind.namespaced else (None,)

    async def streams(
        self, kind: ResourceKind, *, label_selector: str | None = None, namespaces: tuple[str, ...] | None = None
    ) -> list[Informer]:
        """The streams of what ``observe`` subscribed to, once ``start`` has opened them."""
        await self.opened.wait()
        subscription = self._subscriptions.get((kind, label_selector, namespaces))
        return list(subscription.informers) if subscription is not None else []

    def _subscribe(
        self, kind: ResourceKind, observer: Observer, label_selector: str | None, namespaces: tuple[str, ...] | None
    ) -> _Subscription:
        subscription = self._subscriptions.setdefault(
            (kind, label_selector, namespaces), _Subscription(kind, label_selector, namespaces)
        )
        subscription.observers.append(observer)
        return subscription

    def _open(self, subscription: _Subscription) -> list[Informer]:
        """Start the subscription's streams, one per namespace of its scope (a cluster-scoped kind is watched once,
        whatever the namespaces)."""
        for namespace in self._scope(subscription.kind, subscription.namespaces):
            informer = Informer(self.http, subscription.kind, subscription.observers, namespace=namespace,
                                label_selector=subscription.label_selector)
            self.informers.append(informer)
            subscription.informers.append(informer)
            informer.start()
        return list(subscription.informers)

    async def stop(self) -> None:
        """Close every stream (idempotent); the HTTP client stays open for its owner to close."""
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_tasks([task])
        informers, self.informers = self.informers, []
        for informer in informers:
            await informer.stop()


async def first_answers(
    informers: Informers,
    kind: ResourceKind,
    *,
    timeout: float | None,
    label_selector: str | None = None,
    namespaces: tuple[str, ...] | None = None,
) -> bool:
    """Wait until the streams ``informers`` opened for ``kind`` (as ``observe`` subscribed to it) have answered
    their first list, listed or failed — a kind that cannot be listed counts as listed empty, so that nobody waits
    for ever, and its stream keeps trying; whether they all answered within ``timeout`` (None: no limit)."""
    try:
        async with asyncio.timeout(timeout):
            for informer in await informers.streams(kind, label_selector=label_selector, namespaces=namespaces):
                await informer.answered.wait()
    except TimeoutError:
        return False
    return True
