"""Bluesky: crawl one account through the public AppView (XRPC over HTTPS, no login).

Calls (the AppView host is the setting ``bluesky_appview``):

==============================================  ========================================
XRPC method                                     gives
==============================================  ========================================
``app.bsky.actor.getProfiles`` (25 per call)    the target and every account a page
                                                names, with their counts: one profile
                                                snapshot per account and crawl
``app.bsky.graph.getFollowers`` / ``getFollows``  follows into / out of the target (pages
                                                of at most 100, with a cursor)
``app.bsky.feed.getAuthorFeed`` (``--posts``)   posts (hashtags and mentions from facets,
                                                reply and quote targets), the target's
                                                reposts, replies, mentions, quotes
``app.bsky.feed.getLikes`` / ``getRepostedBy``  likes (with ``createdAt``) and reposts of
(``--engagement``)                              each of the target's posts
``com.atproto.repo.listRecords`` on the PDS     follow times (``--follow-times``)
==============================================  ========================================

**Follow times are never guessed.** getFollowers does not say when a follow happened; the
time is in the follower's own ``app.bsky.graph.follow`` record, in the follower's own
repository on its PDS (found from its DID document: ``bluesky_plc_directory`` for
``did:plc``, ``/.well-known/did.json`` for ``did:web``). With ``--follow-times`` the crawl
pages through each follower's follow records until it finds the one naming the target,
and through the target's own records for its follows; otherwise ``created_at`` stays NULL.

Accounts are keyed by DID (``platform = "bluesky"``), posts by their ``at://`` URI. Fields
this module does not map stay in ``accounts.extra``; the raw JSON of every item is kept in
``raw_records``. A post record of an unknown ``$type`` is counted, kept raw, and skipped.

Examples
--------
>>> uri_did("at://did:plc:abc/app.bsky.feed.post/3k")
'did:plc:abc'
>>> BlueskyCrawl.target_key(None, "@Alice.BSKY.social")
'alice.bsky.social'
"""

from __future__ import annotations

import logging
from typing import Any

from .. import config
from .checkpoint import CrawlRun, TargetNotFound
from .http import FetchError
from .records import Page, as_count, extra_json, parse_time

log = logging.getLogger("trueclout.crawl")

PLATFORM = "bluesky"
POST_TYPE = "app.bsky.feed.post"
FOLLOW_TYPE = "app.bsky.graph.follow"
REPOST_REASON = "app.bsky.feed.defs#reasonRepost"

_PROFILE_FIELDS = frozenset({"did", "handle", "displayName", "description", "avatar",
                             "createdAt", "followersCount", "followsCount", "postsCount"})


def uri_did(uri: Any) -> str | None:
    """The DID (authority) of an ``at://`` URI, or None.

    Examples
    --------
    >>> uri_did("at://did:web:a.test/app.bsky.feed.post/1"), uri_did("https://x")
    ('did:web:a.test', None)
    """
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    did = uri[5:].split("/", 1)[0]
    return did if did.startswith("did:") else None


def add_profile(page: Page, view: Any, what: str = "profile") -> str | None:
    """Map a profile view (basic, plain or detailed) onto ``page``; returns its DID, or
    None when the view has no valid DID (then it goes to ``rejects``).

    Examples
    --------
    >>> p = Page("bluesky", 0.0, "t")
    >>> add_profile(p, {"did": "did:plc:a", "handle": "a.test", "followersCount": 4,
    ...                 "labels": [{"val": "bot"}], "pronouns": "they"})
    'did:plc:a'
    >>> row = p.rows["accounts"]["did:plc:a"]
    >>> row["followers_count"], row["declared_bot"], row["default_profile_image"], row["extra"]
    (4, True, True, '{"labels": [{"val": "bot"}], "pronouns": "they"}')
    >>> add_profile(p, {"handle": "nodid.test"}) is None, p.failed
    (True, 1)
    """
    if not isinstance(view, dict) or not isinstance(view.get("did"), str) \
            or not view["did"].startswith("did:"):
        handle = view.get("handle") if isinstance(view, dict) else None
        page.reject("accounts", f"account_id: {what} without a valid did",
                    handle=handle if isinstance(handle, str) else None)
        page.keep_raw(f"malformed:{what}", "", view)
        return None
    did = view["did"]
    handle = view.get("handle") if isinstance(view.get("handle"), str) else None
    labels = view.get("labels") if isinstance(view.get("labels"), list) else []
    bot = any(isinstance(x, dict) and x.get("val") == "bot" for x in labels)
    name = view.get("displayName")
    desc = view.get("description")
    page.account(
        did, handle=handle, name=name if isinstance(name, str) else None,
        description=desc if isinstance(desc, str) else None,
        url=f"https://bsky.app/profile/{handle or did}",
        created_at=parse_time(view.get("createdAt")),
        default_profile_image=not view.get("avatar"), declared_bot=bot,
        followers_count=as_count(view.get("followersCount")),
        following_count=as_count(view.get("followsCount")),
        posts_count=as_count(view.get("postsCount")),
        extra=extra_json(view, _PROFILE_FIELDS))
    page.keep_raw(what, did, view)
    return did


def _facets(record: dict) -> tuple[list[str], list[str]]:
    tags: list[str] = []
    mentions: list[str] = []
    for facet in record.get("facets") or []:
        if not isinstance(facet, dict):
            continue
        for feat in facet.get("features") or []:
            if not isinstance(feat, dict):
                continue
            t = str(feat.get("$type", ""))
            if t.endswith("#tag") and isinstance(feat.get("tag"), str):
                tags.append(feat["tag"])
            elif t.endswith("#mention") and isinstance(feat.get("did"), str):
                mentions.append(feat["did"])
    for t in record.get("tags") or []:
        if isinstance(t, str):
            tags.append(t)
    return list(dict.fromkeys(tags)), list(dict.fromkeys(mentions))


def _quoted(embed: Any) -> str | None:
    if not isinstance(embed, dict):
        return None
    t = str(embed.get("$type", ""))
    rec = embed.get("record")
    if t.startswith("app.bsky.embed.recordWithMedia") and isinstance(rec, dict):
        rec = rec.get("record")
    if t.startswith("app.bsky.embed.record") and isinstance(rec, dict):
        uri = rec.get("uri")
        return uri if isinstance(uri, str) else None
    return None


def add_feed_item(page: Page, item: Any) -> None:
    """Map one ``FeedViewPost`` (a post, or a repost by the feed's owner) onto ``page``.

    Examples
    --------
    >>> p = Page("bluesky", 0.0, "t")
    >>> add_feed_item(p, {"post": {"uri": "at://did:plc:a/app.bsky.feed.post/1",
    ...     "author": {"did": "did:plc:a", "handle": "a.test"},
    ...     "record": {"$type": "app.bsky.feed.post", "text": "hi #x @b",
    ...                "createdAt": "2024-05-01T10:00:00Z", "langs": ["en"],
    ...                "facets": [{"features": [{"$type": "app.bsky.richtext.facet#tag",
    ...                                          "tag": "x"}]}]}}})
    >>> post = p.rows["posts"]["at://did:plc:a/app.bsky.feed.post/1"]
    >>> post["text"], post["lang"], post["hashtags"]
    ('hi #x @b', 'en', ['x'])
    >>> add_feed_item(p, {"post": {"uri": "at://did:plc:a/x.y/1", "author": {"did": "did:plc:a"},
    ...                            "record": {"$type": "app.bsky.feed.newthing"}}})
    >>> dict(p.unknown_types)
    {'app.bsky.feed.newthing': 1}
    """
    post = item.get("post") if isinstance(item, dict) else None
    if not isinstance(post, dict) or not isinstance(post.get("uri"), str):
        page.reject("posts", "post_id: feed item without a post uri")
        page.keep_raw("malformed:feed_item", "", item)
        return
    uri = post["uri"]
    author = add_profile(page, post.get("author"), "author")
    if author is None:
        return
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    rtype = record.get("$type")
    page.keep_raw("post", uri, post)
    if rtype != POST_TYPE:
        page.unknown(rtype or "(no $type)")
        return
    created = parse_time(record.get("createdAt"))
    tags, mentions = _facets(record)
    langs = record.get("langs")
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    reply_to = parent.get("uri") if isinstance(parent.get("uri"), str) else None
    quote_of = _quoted(record.get("embed"))
    text = record.get("text")
    page.post(uri, author, created_at=created, text=text if isinstance(text, str) else None,
              lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str)
              else None, hashtags=tags or None, mentions=mentions or None,
              reply_to=reply_to, quote_of=quote_of)
    for dst, kind in ((uri_did(reply_to), "reply"), (uri_did(quote_of), "quote"),
                      *((m, "mention") for m in mentions)):
        if dst and dst != author:
            page.interaction(author, dst, kind, post_id=uri, created_at=created)
    reason = item.get("reason")
    if isinstance(reason, dict) and reason.get("$type") == REPOST_REASON:
        by = add_profile(page, reason.get("by"), "reposter")
        if by and by != author:
            page.interaction(by, author, "repost", post_id=uri,
                             created_at=parse_time(reason.get("indexedAt")))


class BlueskyCrawl(CrawlRun):
    """A crawl of one Bluesky account (see the module docstring and :class:`CrawlRun`).

    Parameters
    ----------
    appview, plc_directory : str, optional
        Hosts; default from the settings ``bluesky_appview`` and ``bluesky_plc_directory``.
    **kwargs
        As :class:`~trueclout.crawl.checkpoint.CrawlRun`.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> BlueskyCrawl(Store(":memory:"), "a.test").appview
    'https://public.api.bsky.app'
    """

    platform = PLATFORM

    def __init__(self, store, target: str, *, appview: str | None = None,
                 plc_directory: str | None = None, **kwargs: Any) -> None:
        super().__init__(store, target, **kwargs)
        self.appview = str(config.value("bluesky_appview", appview)).rstrip("/")
        self.plc = str(config.value("bluesky_plc_directory", plc_directory)).rstrip("/")
        self.page_limit = int(config.get("bluesky_page_limit"))
        self.batch = int(config.get("bluesky_profiles_batch"))
        self._pds: dict[str, str] = {}

    def target_key(self, target: str) -> str:
        """Handles are case-insensitive; a leading ``@`` is dropped."""
        t = target.strip().lstrip("@")
        return t if t.startswith("did:") else t.lower()

    # -- calls ---------------------------------------------------------------------------
    def xrpc(self, method: str, params: dict, host: str | None = None) -> dict:
        """One XRPC query; returns the JSON object (a non-object is a FetchError)."""
        base = host or self.appview
        params = {k: v for k, v in params.items() if v is not None}
        body = self.client.get_json(f"{base}/xrpc/{method}", params,
                                    endpoint=method if host is None else f"{base} {method}")
        if not isinstance(body, dict):
            raise FetchError(f"{method}: the response is not a JSON object", retryable=True,
                             endpoint=method)
        return body

    def enrich(self, page: Page, dids: list[str]) -> None:
        """Add the counts of ``dids`` (getProfiles, 25 per call) to ``page``."""
        for i in range(0, len(dids), self.batch):
            part = dids[i:i + self.batch]
            try:
                body = self.xrpc("app.bsky.actor.getProfiles", {"actors": part})
            except FetchError as exc:
                if exc.retryable:
                    raise
                log.warning("getProfiles failed for %d accounts: %s; their counts are "
                            "unknown this crawl", len(part), exc)
                page.failed += len(part)
                continue
            for view in body.get("profiles") or []:
                add_profile(page, view, "profile")

    def pds(self, did: str) -> str:
        """The PDS endpoint of ``did`` from its DID document (cached)."""
        if did in self._pds:
            return self._pds[did]
        if did.startswith("did:plc:"):
            doc = self.client.get_json(f"{self.plc}/{did}", endpoint="plc.directory")
        elif did.startswith("did:web:"):
            host = did[len("did:web:"):].replace("%3A", ":")
            doc = self.client.get_json(f"https://{host}/.well-known/did.json",
                                       endpoint="did:web")
        else:
            raise FetchError(f"cannot resolve {did}: unknown DID method")
        for svc in (doc.get("service") or []) if isinstance(doc, dict) else []:
            if isinstance(svc, dict) and str(svc.get("id", "")).endswith("#atproto_pds") \
                    and isinstance(svc.get("serviceEndpoint"), str):
                self._pds[did] = svc["serviceEndpoint"].rstrip("/")
                return self._pds[did]
        raise FetchError(f"the DID document of {did} names no PDS")

    # -- tasks ---------------------------------------------------------------------------
    def resolve(self) -> str:
        """Task ``profile``: the target's profile and counts; returns its DID."""
        def fetch(cursor, limit):
            body = self.xrpc("app.bsky.actor.getProfiles", {"actors": [self.target]})
            page = self.page("profile")
            views = [v for v in body.get("profiles") or [] if isinstance(v, dict)]
            if not views:
                raise TargetNotFound(f"bluesky account {self.target!r} not found on "
                                     f"{self.appview}")
            page.result = add_profile(page, views[0], "profile")
            if page.result is None:
                raise TargetNotFound(f"{self.appview} returned a profile of "
                                     f"{self.target!r} without a DID")
            page.items = 1
            return page
        return self.paged("profile", fetch, limit=1, max_items=0)["cursor"]

    def account_list(self, did: str, direction: str) -> None:
        """Task ``followers:<did>`` or ``follows:<did>``, with every page's counts."""
        method, key = (("app.bsky.graph.getFollowers", "followers") if direction == "in"
                       else ("app.bsky.graph.getFollows", "follows"))
        task = f"{key}:{did}"

        def fetch(cursor, limit):
            body = self.xrpc(method, {"actor": did, "limit": limit, "cursor": cursor})
            page = self.page(task)
            items = body.get(key)
            if not isinstance(items, list):
                raise FetchError(f"{method}: the response has no {key} list", retryable=True,
                                 endpoint=method)
            found = []
            for it in items:
                page.items += 1
                try:
                    other = add_profile(page, it, key[:-1])
                    if other:
                        page.follow(other, did) if direction == "in" else page.follow(did, other)
                        found.append(other)
                except Exception as exc:  # one bad item never stops the page
                    page.fail(key[:-1], it, exc)
            self.enrich(page, list(dict.fromkeys(found)))
            page.next_cursor = body.get("cursor") or None
            return page
        self.paged(task, fetch, limit=self.page_limit, settles=(direction, did))

    def author_feed(self, did: str) -> None:
        """Task ``posts:<did>``."""
        task = f"posts:{did}"

        def fetch(cursor, limit):
            body = self.xrpc("app.bsky.feed.getAuthorFeed",
                             {"actor": did, "limit": limit, "cursor": cursor})
            page = self.page(task)
            for it in body.get("feed") or []:
                page.items += 1
                try:
                    add_feed_item(page, it)
                except Exception as exc:
                    page.fail("feed item", it, exc)
            page.next_cursor = body.get("cursor") or None
            return page
        self.paged(task, fetch, limit=self.page_limit, settles=("posts", did))

    def engagement(self, did: str) -> None:
        """Tasks ``likes:<uri>`` and ``reposts:<uri>`` for the target's own posts."""
        posts = self.raw_ids(self.store.crawl_posts(PLATFORM, self.stored("author", did)))
        if self.params.get("max"):
            posts = posts[:self.params["max"]]
        for uri in posts:
            for method, key, kind in (("app.bsky.feed.getLikes", "likes", "like"),
                                      ("app.bsky.feed.getRepostedBy", "repostedBy", "repost")):
                task = f"{'likes' if kind == 'like' else 'reposts'}:{uri}"

                def fetch(cursor, limit, uri=uri, method=method, key=key, kind=kind, task=task):
                    body = self.xrpc(method, {"uri": uri, "limit": limit, "cursor": cursor})
                    page = self.page(task)
                    for it in body.get(key) or []:
                        page.items += 1
                        try:
                            actor = it.get("actor") if kind == "like" else it
                            src = add_profile(page, actor, "liker" if kind == "like"
                                              else "reposter")
                            if src and src != did:
                                page.interaction(src, did, kind, post_id=uri,
                                                 created_at=parse_time(it.get("createdAt"))
                                                 if kind == "like" else None)
                        except Exception as exc:
                            page.fail(kind, it, exc)
                    page.next_cursor = body.get("cursor") or None
                    return page
                self.paged(task, fetch, limit=self.page_limit, item_level=True)

    def follow_records(self, repo: str, task: str, subject: str | None) -> None:
        """Page ``repo``'s follow records on its PDS. With ``subject``, stop at the record
        that names it (its follow time); without, keep every follow with its time."""
        def fetch(cursor, limit):
            pds = self.pds(repo)
            body = self.xrpc("com.atproto.repo.listRecords",
                             {"repo": repo, "collection": FOLLOW_TYPE, "limit": limit,
                              "cursor": cursor}, host=pds)
            page = self.page(task)
            for rec in body.get("records") or []:
                page.items += 1
                value = rec.get("value") if isinstance(rec, dict) else None
                if not isinstance(value, dict):
                    page.reject("follows", "dst: follow record without a value", src=repo)
                    page.keep_raw("malformed:follow_record", "", rec)
                    continue
                if value.get("$type") != FOLLOW_TYPE:
                    page.unknown(value.get("$type") or "(no $type)")
                    page.keep_raw("record", rec.get("uri"), rec)
                    continue
                dst = value.get("subject")
                if not isinstance(dst, str) or not dst.startswith("did:"):
                    page.reject("follows", "dst: follow record without a subject did",
                                src=repo)
                    page.keep_raw("malformed:follow_record", rec.get("uri"), rec)
                    continue
                if subject is not None and dst != subject:
                    continue
                page.follow(repo, dst, parse_time(value.get("createdAt")))
                page.keep_raw("follow_record", rec.get("uri"), rec)
                if subject is not None:
                    page.done = True
                    page.note = "found"
                    break
            page.next_cursor = body.get("cursor") or None
            if subject is not None and not page.done and page.items == 0:
                page.note = "no follow record names the target: time unknown"
            return page
        self.paged(task, fetch, limit=self.page_limit, max_items=0 if subject else None,
                   item_level=True)

    def follow_times(self, did: str) -> None:
        """Follow times: the target's own records (its follows), then each follower's."""
        if self.params.get("follows"):
            self.follow_records(did, f"follow_records:{did}", None)
        if self.params.get("followers"):
            followers = self.store.crawl_neighbours(PLATFORM, self.stored("dst", did), "in")
            if self.params.get("max"):
                followers = followers[:self.params["max"]]
            ids = dict(zip(self.raw_ids([f for f, _ in followers]), [k for _, k in followers]))
            for fdid, known in ids.items():
                task = f"follow_time:{fdid}"
                if known and self.task_key(task) not in self.tasks:
                    continue
                self.follow_records(fdid, task, did)

    def plan(self) -> None:
        """profile → followers → follows → posts → engagement → follow times → depth 2."""
        did = self.resolve()
        p = self.params
        if p.get("followers"):
            self.account_list(did, "in")
        if p.get("follows"):
            self.account_list(did, "out")
        if p.get("posts"):
            self.author_feed(did)
        if p.get("engagement"):
            self.engagement(did)
        if p.get("follow_times"):
            self.follow_times(did)
        if int(p.get("depth") or 1) >= 2:
            around = sorted({a for d in ("in", "out") for a, _ in
                             self.store.crawl_neighbours(PLATFORM, self.stored("src", did), d)})
            if p.get("max"):
                around = around[:p["max"]]
            for other in self.raw_ids(around):
                if p.get("followers"):
                    self.account_list(other, "in")
                if p.get("follows"):
                    self.account_list(other, "out")


def crawl_bluesky(store, handle: str, **kwargs: Any) -> dict:
    """Crawl one Bluesky account into ``store``; returns the crawl's summary.

    Parameters are those of :class:`BlueskyCrawl`.

    Raises
    ------
    trueclout.crawl.checkpoint.CrawlStopped
        The crawl stopped early (resume it with ``resume=True``).

    Examples
    --------
    >>> import httpx
    >>> from trueclout.store import Store
    >>> def handler(request):
    ...     return httpx.Response(200, json={"profiles": [{"did": "did:plc:a",
    ...                                                    "handle": "a.test"}]})
    >>> s = Store(":memory:")
    >>> crawl_bluesky(s, "a.test", posts=True, transport=httpx.MockTransport(handler)
    ...               )["tasks"]["posts:did:plc:a"]["note"]
    'empty page'
    """
    return BlueskyCrawl(store, handle, **kwargs).run()
