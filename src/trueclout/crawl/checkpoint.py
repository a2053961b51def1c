"""The crawl engine: tasks, checkpoints after every page, resume, stop rules, a summary.

A crawl is a fixed, deterministic sequence of *tasks*; each task pages through one list
(the followers of one account, the likes of one post, ...). :class:`CrawlRun` runs them in
order. After every page it saves the page's rows and the task's next cursor in one
transaction (:meth:`trueclout.store.Store.save_crawl_page`), so a crawl killed at any
point resumes exactly: ``resume=True`` reopens the latest unfinished crawl of the same
target, skips the tasks that are done and continues the others from their cursors.

A task stops on:

* the last page (no next cursor), or a fetcher saying it is done;
* an **empty page** (note ``empty page``);
* a **repeated cursor**: a next cursor already seen by this task (note ``repeated cursor``;
  the task is listed under ``loops`` in the summary), so a server bug cannot loop forever;
* ``max_items`` items (note ``reached --max N``; the page size is cut to fit).

Interactions are deduplicated by ``(src, dst, kind, post)``: within a page by
:class:`~trueclout.crawl.records.Page`, and against the store before each page is saved
(:meth:`trueclout.store.Store.known_interactions`), so one fact seen twice with and
without a time (a Bluesky repost in the reposter's feed, with ``indexedAt``, and in
``getRepostedBy``, without) is kept once: the first copy stored wins.

**One ingest per page.** Each saved page is one load (one ``ingests`` row, its
``ingest_id`` on the page's rows and rejects), on purpose: the load's transaction is the
page's transaction, so its rows, its ingest row and the task's cursor commit together or
not at all, and the page's content hash (crawl, task, page number, cursor) is how a
resumed crawl recognises a page that is already in. One ingest row per crawl would have
to stay open across pages (or be rewritten after each), and a killed crawl would leave it
half-true. ``ingests.options`` names the crawl and the task.

**Pseudonymised crawls** (``pseudonymizer=``, ``trueclout crawl ... --pseudonymize``): the
store is claimed for the key (:meth:`~trueclout.store.Store.claim_pseudonym_key`; a
pseudonymised store takes no plain crawl, and the reverse), and nothing raw is written:
rows go through :func:`~trueclout.crawl.records.pseudonym_id_map` and
:func:`~trueclout.crawl.records.scrub_batch`; raw JSON is never kept; the crawl's target
and task names hold pseudonyms (``followers:u_...``); messages, notes and the summary are
scrubbed (:meth:`CrawlRun.scrub`); the page's content hash is a SHA-256. **Cursors** are
the exception while a crawl is unfinished: resuming needs them as the server gave them,
and they may embed ids (a Mastodon cursor is the next page's URL, with the account's
server-local id; a Bluesky ``profile`` task keeps the target's DID). They stay as they are
until the crawl is done, and are then cleared
(:meth:`~trueclout.store.Store.clear_crawl_cursors`), so a finished pseudonymised crawl
leaves no raw id in the store. A
keyed hash is one-way: a resumed pseudonymised crawl cannot turn the ids saved before the
restart back into API ids, so follow-up lists that depend on them (engagement of posts
saved before, depth 2, follow times) are skipped and counted as failed items.

Failures: an item that cannot be mapped is logged, kept raw and skipped (the page's
``failed`` count). A task about one item (one post's likes, one follower's follow time)
that fails with a non-retryable HTTP error is marked done with the error as its note and
counted under ``failed_items``. Anything else that fails (the target's own lists, rate
limits beyond ``crawl_max_wait_s``, retries used up, Ctrl-C) stops the crawl: its status
becomes ``stopped`` with the reason, and :class:`CrawlStopped` says how to resume.

Examples
--------
>>> from trueclout.store import Store
>>> from trueclout.crawl.records import Page
>>> class Numbers(CrawlRun):
...     platform = "demo"
...     def plan(self):
...         def fetch(cursor, limit):
...             start = int(cursor or 0)
...             p = self.page("numbers")
...             for i in range(start, min(start + limit, 5)):
...                 p.follow(f"a{i}", "t"); p.items += 1
...             p.next_cursor = str(start + limit) if start + limit < 5 else None
...             return p
...         self.paged("numbers", fetch, limit=2)
>>> s = Store(":memory:")
>>> summary = Numbers(s, "t").run()
>>> summary["pages"], summary["items"], summary["rows_added"]["follows"], summary["status"]
(3, 5, 5, 'done')
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

from .. import config
from ..errors import TruecloutError, UsageError
from .http import FetchError, HttpClient
from .records import IdMap, Page, pseudonym_id_map

#: What :meth:`CrawlRun.scrub` masks in free text besides the values it has mapped.
_DID = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]+")
_ADDRESS = re.compile(r"@?\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: A word of free text as :meth:`CrawlRun.scrub` looks it up (ids, handles, URIs).
_TOKEN = re.compile(r"[^\s\"'(),;<>\[\]{}]+")

log = logging.getLogger("trueclout.crawl")

#: ``fetch(cursor, limit) -> Page`` with ``page.next_cursor`` set.
Fetch = Callable[[Any, int], Page]


class CrawlStopped(TruecloutError):
    """A crawl stopped early; ``summary`` says how far it got. Resumable (exit code 1).

    Examples
    --------
    >>> e = CrawlStopped("crawl 3 stopped early: HTTP 500", summary={"crawl_id": 3})
    >>> e.exit_code, e.summary["crawl_id"]
    (1, 3)
    """

    def __init__(self, message: str, *, summary: dict | None = None) -> None:
        super().__init__(message)
        self.summary = summary or {}


class TargetNotFound(UsageError):
    """The crawl's target does not exist, or the server refused the request that names it
    (a 4xx other than 429 on the first request). A usage error (exit code 2): the crawl is
    recorded as ``failed`` and ``--resume`` never picks it up.

    Examples
    --------
    >>> TargetNotFound("bluesky account 'x.test' not found").exit_code
    2
    """


class CrawlRun:
    """One crawl of one account: the shared engine of the platform crawlers.

    Subclasses set ``platform`` and implement :meth:`plan` (and may override
    :meth:`target_key`), calling :meth:`paged` once per task.

    Parameters
    ----------
    store : Store
        Open for writing.
    target : str
        The account (a Bluesky handle or DID; ``user@server`` on Mastodon).
    followers, follows, posts, engagement, follow_times : bool
        What to fetch (see the platform modules). Without any of the list flags the
        crawl fetches followers and follows.
    depth : int
        1: the target's lists; 2: also the lists of every account found at depth 1.
    max_items : int, optional
        At most this many items per task.
    resume : bool
        Continue the latest unfinished crawl of ``target`` (its saved parameters win).
    client : HttpClient, optional
        Else one is made with ``transport``, ``clock`` and ``sleep``.
    progress : callable, optional
        ``progress(task, pages, items)`` after every page.
    id_map : callable, optional
        ``id_map(column, value)``, applied to every account id and handle before writing
        (the hook for pseudonymisation; with one, raw JSON is not kept unless
        ``keep_raw=True``), and to the ids in the crawl's target and task names.
    pseudonymizer : trueclout.privacy.Pseudonymizer, optional
        Store keyed pseudonyms (``--pseudonymize``; see the module docstring). Sets the
        id map; raw JSON is never kept.
    keep_raw : bool, optional
        Keep every item's raw JSON in ``raw_records`` (default: setting
        ``crawl_keep_raw``).

    Examples
    --------
    >>> CrawlRun.__init__.__doc__ is None
    True
    """

    platform = ""

    def __init__(self, store, target: str, *, followers: bool = False, follows: bool = False,
                 posts: bool = False, engagement: bool = False, follow_times: bool = False,
                 depth: int = 1, max_items: int | None = None, resume: bool = False,
                 client: HttpClient | None = None, transport=None,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None,
                 progress: Callable[[str, int, int], None] | None = None,
                 id_map: IdMap | None = None, keep_raw: bool | None = None,
                 pseudonymizer=None, **extra: Any) -> None:
        if depth not in (1, 2):
            raise UsageError(f"--depth must be 1 or 2, not {depth}")
        if max_items is not None and max_items < 1:
            raise UsageError(f"--max must be at least 1, not {max_items}")
        if not str(target).strip():
            raise UsageError("name the account to crawl")
        if not (followers or follows or posts or engagement):
            followers = follows = True
        if engagement:
            posts = True
        self.store = store
        self.target = self.target_key(str(target))
        self.params: dict[str, Any] = {
            "followers": followers, "follows": follows, "posts": posts,
            "engagement": engagement, "follow_times": follow_times, "depth": depth,
            "max": max_items, **extra}
        self.resume = resume
        self.clock = clock or time.time
        self._own_client = client is None
        self.client = client or HttpClient(transport=transport, clock=self.clock, sleep=sleep)
        self.progress = progress
        self._reverse: dict[str, str] = {}
        self._forward: dict[str, str] = {}
        self.pseudonymizer = pseudonymizer
        if pseudonymizer is not None:
            if id_map is not None:
                raise UsageError("give an id map or a pseudonymizer, not both")
            id_map = pseudonym_id_map(pseudonymizer, self.platform)
            keep_raw = False                   # raw JSON names everyone: never kept
        self.id_map = None if id_map is None else self._remembering(id_map)
        # raw JSON holds the ids an id_map hides: not kept with one unless asked for
        self.keep_raw = bool(config.value("crawl_keep_raw", keep_raw)
                             if id_map is None or keep_raw is not None else False)
        self.crawl_id: int | None = None
        #: The crawl's time (epoch seconds; a resumed crawl keeps its first start): the
        #: observation time of its profiles, so each account gets one snapshot per crawl.
        self.started: float = self.clock()
        self.tasks: dict[str, dict] = {}
        self._summary: dict[str, Any] = {}

    # -- to implement --------------------------------------------------------------------
    def target_key(self, target: str) -> str:
        """The form of ``target`` crawls are recorded under (resume finds it by this).

        Examples
        --------
        >>> CrawlRun.target_key(None, " Alice.Test ")
        'alice.test'
        """
        return target.strip().lower()

    def plan(self) -> None:
        """Run the crawl's tasks, in a deterministic order, with :meth:`paged`."""
        raise NotImplementedError

    # -- ids -----------------------------------------------------------------------------
    def _remembering(self, id_map: IdMap) -> IdMap:
        def mapped(column: str, value: str) -> str | None:
            out = id_map(column, value)
            if out is not None:
                self._reverse[out] = value
                self._forward.setdefault(value, out)
            return out
        return mapped

    def task_key(self, task: str) -> str:
        """The name ``task`` is saved under: with an id map, the id after the first
        ``:`` is mapped (a post for ``likes:``/``reposts:``, else an account).

        Examples
        --------
        >>> class R(CrawlRun):
        ...     platform = "demo"
        >>> from trueclout.store import Store
        >>> R(Store(":memory:"), "t", id_map=lambda c, v: c + "=" + v).task_key("likes:p1")
        'likes:post_id=p1'
        >>> R(Store(":memory:"), "t").task_key("followers:did:plc:a")
        'followers:did:plc:a'
        """
        prefix, sep, value = task.partition(":")
        if self.id_map is None or not sep or not value:
            return task
        column = "post_id" if prefix in ("likes", "reposts") else "account_id"
        return f"{prefix}:{self.id_map(column, value)}"

    def scrub(self, text: Any) -> Any:
        """``text`` (a message, a note; or a dict or list of them, keys too, such as the
        summary) as the store may hold it: with an id map, every word that is a value
        mapped so far (give or take a leading ``@`` and trailing punctuation) is replaced
        by its mapped form; with a pseudonymizer also any other DID and
        ``user@server`` address (by their pseudonyms) and URL (by ``<url>``). Without an
        id map, ``text`` itself.

        Examples
        --------
        >>> class R(CrawlRun):
        ...     platform = "demo"
        >>> from trueclout.store import Store
        >>> r = R(Store(":memory:"), "t", id_map=lambda c, v: v.upper())
        >>> _ = r.stored("src", "bob"); r.scrub({"bob": ["HTTP 404: bob not found", 3]})
        {'BOB': ['HTTP 404: BOB not found', 3]}
        """
        if self.id_map is None:
            return text
        if isinstance(text, dict):
            return {self.scrub(k): self.scrub(v) for k, v in text.items()}
        if isinstance(text, (list, tuple)):
            return [self.scrub(v) for v in text]
        if not isinstance(text, str) or not text:
            return text
        forward = self._forward

        def swap(m: re.Match) -> str:
            tok = m.group(0)
            lead = len(tok) - len(tok.lstrip("@"))
            core = tok[lead:].rstrip(".:!?")
            out = forward.get(core)
            return tok if out is None else tok[:lead] + out + tok[lead + len(core):]
        text = _TOKEN.sub(swap, text)
        pz = self.pseudonymizer
        if pz is not None:
            text = _DID.sub(lambda m: pz.account(self.platform, m.group(0)), text)
            text = pz.scrub_text(self.platform, text)
            text = _ADDRESS.sub(lambda m: pz.handle(self.platform, m.group(0)), text)
        return text

    def stored(self, column: str, value: str) -> str:
        """``value`` as the store holds it (through the id map, if any).

        Examples
        --------
        >>> class R(CrawlRun):
        ...     platform = "demo"
        >>> from trueclout.store import Store
        >>> R(Store(":memory:"), "t", id_map=lambda c, v: v[::-1]).stored("src", "abc")
        'cba'
        """
        return self.id_map(column, value) if self.id_map else value

    def raw_ids(self, values: list[str]) -> list[str]:
        """The API ids of ids read back from the store. With an id map, only ids mapped
        in this process can be turned back (a keyed hash is one-way): the others (pages
        saved before a resume) are counted as failed items and skipped.

        Examples
        --------
        >>> class R(CrawlRun):
        ...     platform = "demo"
        >>> from trueclout.store import Store
        >>> r = R(Store(":memory:"), "t", id_map=lambda c, v: v[::-1])
        >>> r._summary = {"failed_items": 0}
        >>> _ = r.stored("src", "abc"); r.raw_ids(["cba", "zz"]), r._summary["failed_items"]
        (['abc'], 1)
        """
        if self.id_map is None:
            return list(values)
        out = [self._reverse[v] for v in values if v in self._reverse]
        lost = len(values) - len(out)
        if lost:
            log.warning("%d ids were mapped before this process started and cannot be "
                        "turned back; their follow-up lists are skipped", lost)
            self._summary["failed_items"] = self._summary.get("failed_items", 0) + lost
        return out

    # -- helpers for plan() --------------------------------------------------------------
    def page(self, task: str) -> Page:
        """A fresh :class:`Page` for ``task``, stamped with the crawl's time.

        Examples
        --------
        >>> class R(CrawlRun):
        ...     platform = "demo"
        >>> from trueclout.store import Store
        >>> p = R(Store(":memory:"), "t", clock=lambda: 0.0).page("x")
        >>> p.source, p.observed_at.year
        ('crawl demo t: x', 1970)
        """
        return Page(self.platform, self.started, f"crawl {self.platform} "
                    f"{self.stored('target', self.target_key(self.target))}: "
                    f"{self.task_key(task)}")

    def task_state(self, task: str) -> dict:
        """The checkpoint of ``task`` (a fresh one when the task has not started).

        Examples
        --------
        >>> class R(CrawlRun):
        ...     platform = "demo"
        >>> from trueclout.store import Store
        >>> R(Store(":memory:"), "t").task_state("x")["done"]
        False
        """
        return self.tasks.get(self.task_key(task)) or {"cursor": None, "done": False, "pages": 0,
                                        "items": 0, "seen": [], "partial": False,
                                        "note": None}

    def paged(self, task: str, fetch: Fetch, *, limit: int,
              max_items: int | None = None, item_level: bool = False,
              settles: tuple[str, str] | None = None) -> dict:
        """Run one task to its end: fetch pages from the saved cursor, save each page
        with its checkpoint, stop on the rules above. Returns the task's final state.

        ``max_items`` defaults to the crawl's ``max``; 0 means no limit. ``item_level``
        tasks (about one item) end with a note instead of stopping the crawl when the
        server refuses them (a 4xx other than 429). ``settles=(kind, account id)``
        (``in``: its followers, ``out``: its follows, ``posts``) names what the list is:
        when it ends complete (a page with no next cursor, not cut by ``--max``, not
        partial), the store's live follows or posts there that this crawl did
        not list are marked gone in the last page's transaction
        (:meth:`trueclout.store.Store.save_crawl_page`).
        """
        st = dict(self.task_state(task))
        task = self.task_key(task)
        s = self._summary
        if st["done"]:
            self._note_task(task, st)
            return st
        max_items = self.params.get("max") if max_items is None else max_items
        max_items = max_items or None  # 0: no limit for this task
        cursor = st["cursor"]
        seen = list(st["seen"])
        while True:
            want = limit if max_items is None else max(1, min(limit, max_items - st["items"]))
            try:
                page = fetch(cursor, want)
            except FetchError as exc:
                if not (item_level and not exc.retryable):
                    raise
                log.warning("%s: %s; skipped", task, exc)
                s["failed_items"] += 1
                st.update(done=True, note=f"failed: {exc.message}")
                self._save(task, Page(self.platform, self.clock(), task), st, seen,
                           fetched=False)
                break
            nxt = page.next_cursor
            n = page.items
            st["pages"] += 1
            st["items"] += n
            st["partial"] = st["partial"] or page.partial
            done, note = page.done, page.note
            if not done:
                if n == 0:
                    done, note = True, note or "empty page"
                elif nxt is None:
                    done = True
                elif nxt == cursor or nxt in seen:
                    done, note = True, f"repeated cursor {str(nxt)[:80]!r}"
                    s["loops"].append(task)
                    log.warning("%s: the server repeated cursor %r; stopping this list",
                                task, nxt)
                elif max_items is not None and st["items"] >= max_items:
                    done, note = True, f"reached --max {max_items}"
            if nxt is not None and nxt not in seen:
                seen.append(nxt)
            st.update(done=done, note=note,
                      cursor=(page.result if done and page.result is not None else nxt))
            # complete: the server said this was the last page (an empty page that
            # still names a next cursor is not)
            complete = (done and settles is not None and not st["partial"] and nxt is None
                        and note in (None, "empty page"))
            self._save(task, page, st, seen, settle=(
                (settles[0], self.stored("account_id", settles[1])) if complete else None))
            if self.progress:
                self.progress(task, st["pages"], st["items"])
            if done:
                break
            cursor = nxt
        self.tasks[task] = st
        self._note_task(task, st)
        return st

    def _save(self, task: str, page: Page, st: dict, seen: list, fetched: bool = True,
              settle: tuple[str, str] | None = None) -> None:
        s = self._summary
        s["duplicate_interactions"] += self._drop_known_interactions(page)
        result = self.store.save_crawl_page(
            self.crawl_id, task, page.chunks(self.id_map, self.pseudonymizer),
            cursor=st["cursor"], seen=seen, pages=st["pages"], items=st["items"],
            done=st["done"], partial=st["partial"], note=self.scrub(st["note"]),
            raw=page.raw if self.keep_raw else (), platform=self.platform,
            hash_content=self.id_map is not None, seen_at=page.observed_at,
            settle=settle, settled_at=datetime.fromtimestamp(self.clock(), timezone.utc))
        if settle is not None:
            s["settled"].append(task)
        self.tasks[task] = dict(st, seen=list(seen))
        s["pages"] += int(fetched)
        s["items"] += page.items
        s["failed_items"] += page.failed
        s["rejected"] += result.rejected
        s["unknown_record_types"].update(page.unknown_types)
        for t, c in result.tables.items():
            s["rows_added"][t] = s["rows_added"].get(t, 0) + int(c.get("new", 0))
        s["rows_added"]["new_accounts"] = (s["rows_added"].get("new_accounts", 0)
                                           + int(result.new_accounts))

    def _drop_known_interactions(self, page: Page) -> int:
        """Drop the page's interactions on a post that the store already holds, by
        ``(src, dst, kind, post)`` whatever their time; returns how many."""
        rows = page.rows["interactions"]
        keys = [k for k in rows if k[3] is not None]
        if not keys:
            return 0
        st = self.stored
        mapped = {(st("src", a), st("dst", b), kind, st("post_id", p)): (a, b, kind, p)
                  for a, b, kind, p in keys}
        known = self.store.known_interactions(self.platform, list(mapped))
        for k in known:
            rows.pop(mapped[k], None)
        return len(known)

    def _note_task(self, task: str, st: dict) -> None:
        self._summary["tasks"][task] = {k: st[k] for k in ("pages", "items", "done",
                                                            "partial", "note")}

    # -- running -------------------------------------------------------------------------
    def run(self) -> dict:
        """Run (or resume) the crawl; returns its summary.

        Raises
        ------
        CrawlStopped
            The crawl stopped early (the message says why and how to resume).
        """
        key = self.stored("target", self.target_key(self.target))
        store = self.store
        resumed = False
        have = store.pseudonym_key_id()
        if self.pseudonymizer is not None:
            store.claim_pseudonym_key(self.pseudonymizer.key_id)
        elif have is not None:
            raise UsageError(f"store {store.path} is pseudonymised (key id {have}); crawl "
                             "into it with --pseudonymize and its key file")
        if self.resume:
            old = store.open_crawl(self.platform, key)
            if old is None:
                raise UsageError(f"no unfinished {self.platform} crawl of {key} to resume; "
                                 "run it without --resume")
            self.crawl_id = int(old["crawl_id"])
            self.params.update({k: v for k, v in old["params"].items()})
            if old.get("started_at"):
                self.started = datetime.fromisoformat(old["started_at"]).timestamp()
            store.set_crawl_status(self.crawl_id, "running", "resumed")
            resumed = True
        else:
            self.crawl_id = store.create_crawl(
                self.platform, key, self.params,
                started_at=datetime.fromtimestamp(self.started, timezone.utc))
        self.tasks = store.crawl_tasks(self.crawl_id)
        self._summary = {
            "crawl_id": self.crawl_id, "platform": self.platform, "target": key,
            "resumed": resumed, "params": self.params, "status": "running",
            "stopped_early": False, "message": None, "pages": 0, "items": 0,
            "rows_added": {}, "rejected": 0, "failed_items": 0, "duplicate_interactions": 0,
            "unknown_record_types": Counter(), "loops": [], "settled": [], "tasks": {}}
        try:
            self.plan()
        except KeyboardInterrupt:
            self._stop("interrupted")
            raise
        except TargetNotFound as exc:
            self._finish("failed", str(exc))
            raise
        except FetchError as exc:
            if self._refused_target(exc):
                self._finish("failed", str(exc))
                raise TargetNotFound(
                    f"{self.platform} refused the request for {self.target!r} "
                    f"({exc}); check the {'handle or DID' if self.platform == 'bluesky' else 'account'}"
                    " and the server") from exc
            summary = self._stop(str(exc))
            raise CrawlStopped(
                f"{self.platform} crawl {self.crawl_id} of {key} stopped early after "
                f"{summary['pages']} pages: {exc}. Its pages so far are saved; run the same "
                "command with --resume to continue", summary=summary) from exc
        except TruecloutError as exc:
            self._stop(str(exc))
            raise
        finally:
            if self._own_client:
                self.client.close()
        return self._finish("done", None)

    def _refused_target(self, exc: FetchError) -> bool:
        """A client error (4xx, not 429) before the target's profile was saved: the
        target is wrong, and resuming cannot help."""
        status = getattr(exc, "status", None)
        profile = self.tasks.get(self.task_key("profile"), {})
        return (status is not None and 400 <= int(status) < 500 and int(status) != 429
                and not profile.get("done"))

    def _finish(self, status: str, message: str | None) -> dict:
        s = self._summary
        s["status"] = status
        s["message"] = message
        s["stopped_early"] = status == "stopped"
        s["unknown_record_types"] = dict(s["unknown_record_types"])
        s["partial"] = sorted(t for t, st in self.tasks.items() if st.get("partial"))
        s["requests"] = self.client.requests
        s["rate_limit_waits"] = len(self.client.waits)
        s["waited_s"] = round(sum(w[1] for w in self.client.waits), 3)
        if self.pseudonymizer is not None:
            s["pseudonym_key_id"] = self.pseudonymizer.key_id
        try:
            stored = self.scrub(json.loads(json.dumps(s, default=str)))
            self.store.set_crawl_status(self.crawl_id, status, self.scrub(message), stored)
            if status == "done" and self.id_map is not None:
                # cursors may embed ids (see the module docstring): gone once not needed
                self.store.clear_crawl_cursors(self.crawl_id)
        except Exception as exc:  # the store may be gone (Ctrl-C in a transaction)
            log.warning("could not record the crawl's status: %s", exc)
        return s

    def _stop(self, message: str) -> dict:
        log.warning("crawl %s stopped early: %s", self.crawl_id, message)
        return self._finish("stopped", message)
