"""Mastodon: crawl one account through the REST API of its own server (no login).

Calls (``https://<server>/api/v1/...``):

=============================================  =========================================
route                                          gives
=============================================  =========================================
``accounts/lookup?acct=USER``                  the account, its counts and fields (one
                                               profile snapshot per crawl)
``accounts/:id/followers`` / ``following``     follows into / out of the account, pages
                                               of at most 80, next page from the ``Link``
                                               header
``accounts/:id/statuses`` (``--posts``)        posts (tags, mentions), boosts (reposts)
                                               and replies
``statuses/:id/favourited_by`` /               likes and reposts of each of the account's
``reblogged_by`` (``--engagement``)            posts (Mastodon gives no time for them)
=============================================  =========================================

**Own server first.** A Mastodon server knows the followers of its own accounts; another
server knows only the part of them it federates with. The account is looked up on its own
server (the part after ``@``). A list fetched from another server (``via=`` / ``--via``)
is flagged **partial**, and so is a list the server hides (an empty first page while the
account's count says otherwise).

Accounts are keyed by their full address ``user@domain`` (the domain in lower case), so
the same person seen from two servers is one account; the server-local id is kept in
``extra``. Posts are keyed by their ActivityPub ``uri``. Mastodon does not publish when a
follow happened: follow times stay unknown (NULL).

**Replies.** A status names its parent by ``in_reply_to_id`` (the id of the parent *on the
server that served it*) and ``in_reply_to_account_id``. The parent's author is known when
it is the status's own author (a thread) or one of its mentions (Mastodon mentions the
author it replies to): the reply becomes a ``reply`` interaction to that author. The
parent's uri, the key of ``posts.reply_to``, is known when its author is local to that
server: ``https://<server>/users/<username>/statuses/<in_reply_to_id>``, how Mastodon
names its own statuses. The parent of a remote author has a uri that the server-local id
does not tell: ``reply_to`` stays NULL (never guessed), and the ids stay in the raw JSON.

Examples
--------
>>> canonical_acct("Alice", "Mastodon.Social"), canonical_acct("bob@Other.test", "x")
('Alice@mastodon.social', 'bob@other.test')
>>> html_text("<p>Hi &amp; <a href='x'>bye</a><br/>there</p>")
'Hi & bye\\nthere'
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

from .. import config
from ..errors import InputError, UsageError
from .checkpoint import CrawlRun, TargetNotFound
from .http import FetchError, RateLimited
from .records import Page, as_count, parse_time

log = logging.getLogger("trueclout.crawl")

PLATFORM = "mastodon"

_ACCOUNT_FIELDS = frozenset({"acct", "username", "display_name", "note", "url",
                             "created_at", "locked", "bot", "avatar", "followers_count",
                             "following_count", "statuses_count"})
_STATUS_ID = re.compile(r"/statuses/(\d+)/?$")


def canonical_acct(acct: str, server: str) -> str:
    """``user@domain`` for an ``acct`` as a server writes it (no domain: its own).

    Examples
    --------
    >>> canonical_acct("@carol@Fosstodon.org", "mastodon.social")
    'carol@fosstodon.org'
    """
    acct = acct.strip().lstrip("@")
    user, _, domain = acct.partition("@")
    return f"{user}@{(domain or server).lower()}"


def html_text(value: Any) -> str | None:
    """Plain text from Mastodon's HTML (``note``, ``content``), or None.

    Examples
    --------
    >>> html_text("<p>a</p><p>b</p>"), html_text(None)
    ('a\\n\\nb', None)
    """
    if not isinstance(value, str):
        return None
    text = re.sub(r"<br\s*/?>", "\n", value)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def add_account(page: Page, obj: Any, server: str, what: str = "account") -> str | None:
    """Map a Mastodon ``Account`` seen on ``server`` onto ``page``; returns its address,
    or None when it has no ``acct`` (then it goes to ``rejects``).

    Examples
    --------
    >>> p = Page("mastodon", 0.0, "t")
    >>> add_account(p, {"id": "7", "acct": "ann", "bot": True, "followers_count": 3,
    ...                 "avatar": "https://m.test/avatars/original/missing.png",
    ...                 "fields": [{"name": "web", "value": "x"}]}, "m.test")
    'ann@m.test'
    >>> r = p.rows["accounts"]["ann@m.test"]
    >>> r["declared_bot"], r["default_profile_image"], r["followers_count"]
    (True, True, 3)
    >>> add_account(p, {"id": "8"}, "m.test") is None
    True
    """
    acct = obj.get("acct") if isinstance(obj, dict) else None
    if not isinstance(acct, str) or not acct.strip():
        page.reject("accounts", f"account_id: {what} without an acct")
        page.keep_raw(f"malformed:{what}", "", obj)
        return None
    aid = canonical_acct(acct, server)
    avatar = obj.get("avatar") if isinstance(obj.get("avatar"), str) else ""
    extra = {k: v for k, v in obj.items() if k not in _ACCOUNT_FIELDS}
    extra["seen_on"] = server
    name = obj.get("display_name")
    page.account(
        aid, handle=aid, name=name if isinstance(name, str) and name else None,
        description=html_text(obj.get("note")),
        url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        created_at=parse_time(obj.get("created_at")),
        protected=obj.get("locked") if isinstance(obj.get("locked"), bool) else None,
        declared_bot=obj.get("bot") if isinstance(obj.get("bot"), bool) else None,
        default_profile_image=(not avatar) or avatar.endswith("/missing.png"),
        followers_count=as_count(obj.get("followers_count")),
        following_count=as_count(obj.get("following_count")),
        posts_count=as_count(obj.get("statuses_count")),
        extra=json.dumps(extra, sort_keys=True, default=str))
    page.keep_raw(what, aid, obj)
    return aid


def add_status(page: Page, st: Any, server: str) -> str | None:
    """Map a ``Status`` onto ``page`` (a boost becomes a repost of the original);
    returns the post's uri.

    Examples
    --------
    >>> p = Page("mastodon", 0.0, "t")
    >>> add_status(p, {"id": "1", "uri": "https://m.test/users/ann/statuses/1",
    ...     "created_at": "2024-01-01T00:00:00.000Z", "content": "<p>hi</p>",
    ...     "account": {"acct": "ann"}, "tags": [{"name": "cats"}],
    ...     "mentions": [{"acct": "bob@o.test", "id": "9"}], "language": "en"}, "m.test")
    'https://m.test/users/ann/statuses/1'
    >>> sorted(k[2] for k in p.rows["interactions"]), p.rows["posts"][
    ...     "https://m.test/users/ann/statuses/1"]["hashtags"]
    (['mention'], ['cats'])

    A reply to a local author gets the parent's uri; one to a remote author only the
    ``reply`` interaction:

    >>> reply = {"id": "2", "uri": "https://m.test/users/ann/statuses/2",
    ...     "account": {"id": "5", "acct": "ann"}, "in_reply_to_id": "40",
    ...     "in_reply_to_account_id": "9", "mentions": [{"acct": "bob", "id": "9"}]}
    >>> _ = add_status(p, reply, "m.test")
    >>> p.rows["posts"][reply["uri"]]["reply_to"]
    'https://m.test/users/bob/statuses/40'
    >>> _ = add_status(p, {**reply, "uri": "u3", "mentions": [{"acct": "bob@o.test", "id": "9"}]},
    ...                "m.test")
    >>> p.rows["posts"]["u3"].get("reply_to")
    >>> ("ann@m.test", "bob@o.test", "reply", "u3") in p.rows["interactions"]
    True
    """
    if not isinstance(st, dict) or not isinstance(st.get("uri"), str):
        page.reject("posts", "post_id: status without a uri")
        page.keep_raw("malformed:status", "", st)
        return None
    uri = st["uri"]
    author = add_account(page, st.get("account"), server, "author")
    if author is None:
        return None
    created = parse_time(st.get("created_at"))
    page.keep_raw("status", uri, st)
    if isinstance(st.get("reblog"), dict):
        orig = add_status(page, st["reblog"], server)
        orig_author = page.rows["posts"].get(orig, {}).get("author") if orig else None
        if orig and orig_author and orig_author != author:
            page.interaction(author, orig_author, "repost", post_id=orig, created_at=created)
        return orig
    mentions = {}
    for m in st.get("mentions") or []:
        if isinstance(m, dict) and isinstance(m.get("acct"), str):
            mentions[str(m.get("id"))] = canonical_acct(m["acct"], server)
    parent_account = st.get("in_reply_to_account_id")
    account = st.get("account") if isinstance(st.get("account"), dict) else {}
    reply_to = (author if parent_account is not None
                and str(parent_account) == str(account.get("id"))
                else mentions.get(str(parent_account)))
    parent_id = st.get("in_reply_to_id")
    parent_uri = None
    if reply_to and isinstance(parent_id, (str, int)) and str(parent_id).isdigit():
        user, _, domain = reply_to.partition("@")
        if domain == server.lower():
            parent_uri = f"https://{domain}/users/{user}/statuses/{parent_id}"
    tags = [t["name"] for t in st.get("tags") or []
            if isinstance(t, dict) and isinstance(t.get("name"), str)]
    quote = st.get("quote") if isinstance(st.get("quote"), dict) else {}
    quoted = quote.get("quoted_status") if isinstance(quote.get("quoted_status"), dict) else {}
    page.post(uri, author, created_at=created, text=html_text(st.get("content")),
              lang=st.get("language") if isinstance(st.get("language"), str) else None,
              hashtags=tags or None, mentions=list(mentions.values()) or None,
              reply_to=parent_uri,
              quote_of=quoted.get("uri") if isinstance(quoted.get("uri"), str) else None)
    if reply_to and reply_to != author:
        page.interaction(author, reply_to, "reply", post_id=uri, created_at=created)
    for dst in mentions.values():
        if dst != author:
            page.interaction(author, dst, "mention", post_id=uri, created_at=created)
    return uri


class MastodonCrawl(CrawlRun):
    """A crawl of one Mastodon account (see the module docstring and :class:`CrawlRun`).

    Parameters
    ----------
    target : str
        ``user@server`` (a leading ``@`` is allowed).
    via : str, optional
        Fetch through this server instead of the account's own: the lists are then
        flagged partial.
    **kwargs
        As :class:`~trueclout.crawl.checkpoint.CrawlRun`.

    Examples
    --------
    >>> from trueclout.store import Store
    >>> c = MastodonCrawl(Store(":memory:"), "@Ann@M.Test", via="other.test")
    >>> c.user, c.home, c.server, c.partial
    ('Ann', 'm.test', 'other.test', True)
    >>> MastodonCrawl(Store(":memory:"), "ann")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: name a Mastodon account as user@server, not 'ann'
    """

    platform = PLATFORM

    def __init__(self, store, target: str, *, via: str | None = None, **kwargs: Any) -> None:
        user, _, home = str(target).strip().lstrip("@").partition("@")
        if not user or not home or "@" in home:
            raise UsageError(f"name a Mastodon account as user@server, not {target!r}")
        super().__init__(store, target, via=via, **kwargs)
        self.user, self.home = user, home.lower()
        self.server = (via or self.home).lower()
        self.partial = self.server != self.home
        self.page_limit = int(config.get("mastodon_page_limit"))
        self.status_limit = int(config.get("mastodon_statuses_limit"))
        self.counts: dict[str, int | None] = {}

    def target_key(self, target: str) -> str:
        """``user@server``, the server in lower case."""
        return canonical_acct(target, "")

    def get(self, url: str, params: dict | None, endpoint: str):
        """GET a JSON list or object; returns (body, next page url or None)."""
        resp = self.client.get(url, params, endpoint=f"{self.server} {endpoint}")
        body = self.client.json_of(resp, endpoint)
        nxt = resp.links.get("next", {}).get("url")
        return body, nxt

    def base(self, server: str | None = None) -> str:
        return f"https://{server or self.server}/api/v1"

    def resolve(self, acct: str, task: str, server: str) -> str | None:
        """Task ``profile`` (or ``profile:<acct>``): look ``acct`` up on ``server``;
        returns its local id there."""
        user, _, home = acct.partition("@")
        query = user if home == server else acct

        def fetch(cursor, limit):
            try:
                obj, _ = self.get(f"{self.base(server)}/accounts/lookup", {"acct": query},
                                  "accounts/lookup")
            except FetchError as exc:
                if exc.status == 404 and task == "profile":
                    raise TargetNotFound(f"mastodon account {acct!r} not found on "
                                         f"{server}") from exc
                raise
            page = self.page(task)
            if not isinstance(obj, dict) or not obj.get("id"):
                if task == "profile":
                    raise TargetNotFound(f"{server} returned no account for {acct!r}")
                raise InputError(f"{server} returned no account for {acct!r}")
            add_account(page, obj, server, "profile")
            page.result = str(obj["id"])
            page.items = 1
            self.counts[acct] = as_count(obj.get("followers_count"))
            self.counts[f"out:{acct}"] = as_count(obj.get("following_count"))
            return page
        return self.paged(task, fetch, limit=1, max_items=0,
                          item_level=task != "profile")["cursor"]

    def account_list(self, local_id: str, acct: str, direction: str, server: str) -> None:
        """Task ``followers:<acct>`` or ``follows:<acct>``, by the Link header."""
        route = "followers" if direction == "in" else "following"
        task = f"{'followers' if direction == 'in' else 'follows'}:{acct}"
        partial = server != acct.partition("@")[2]

        def fetch(cursor, limit):
            url = cursor or f"{self.base(server)}/accounts/{local_id}/{route}"
            body, nxt = self.get(url, None if cursor else {"limit": limit},
                                 f"accounts/{route}")
            if not isinstance(body, list):
                raise FetchError(f"accounts/{route}: the response is not a list",
                                 retryable=True)
            page = self.page(task)
            page.partial = partial
            for obj in body:
                page.items += 1
                try:
                    other = add_account(page, obj, server, route[:-1] if direction == "in"
                                        else "followed")
                    if other:
                        page.follow(other, acct) if direction == "in" else page.follow(acct, other)
                except Exception as exc:
                    page.fail(route, obj, exc)
            count = self.counts.get(acct if direction == "in" else f"out:{acct}")
            if cursor is None and not body and count:
                page.partial = True
                page.note = f"the server hides this list (count {count}): partial"
            page.next_cursor = nxt
            return page
        self.paged(task, fetch, limit=self.page_limit, settles=(direction, acct))

    def statuses(self, local_id: str, acct: str) -> None:
        """Task ``posts:<acct>``."""
        task = f"posts:{acct}"

        def fetch(cursor, limit):
            url = cursor or f"{self.base()}/accounts/{local_id}/statuses"
            body, nxt = self.get(url, None if cursor else {"limit": limit},
                                 "accounts/statuses")
            page = self.page(task)
            for st in body if isinstance(body, list) else []:
                page.items += 1
                try:
                    add_status(page, st, self.server)
                except Exception as exc:
                    page.fail("status", st, exc)
            page.next_cursor = nxt
            return page
        self.paged(task, fetch, limit=self.status_limit, settles=("posts", acct))

    def local_status_id(self, uri: str) -> str | None:
        """The server-local id of a post of the target, from its uri or its raw JSON."""
        m = _STATUS_ID.search(uri)
        if m and uri.startswith(f"https://{self.server}/"):
            return m.group(1)
        raw = self.store.raw_record(PLATFORM, "status", uri)
        return str(raw["id"]) if isinstance(raw, dict) and raw.get("id") else None

    def engagement(self, acct: str) -> None:
        """Tasks ``likes:<uri>`` and ``reposts:<uri>`` for the target's own posts."""
        posts = self.raw_ids(self.store.crawl_posts(PLATFORM, self.stored("author", acct)))
        if self.params.get("max"):
            posts = posts[:self.params["max"]]
        for uri in posts:
            sid = self.local_status_id(uri)
            if sid is None:
                log.warning("no local id for %s; its likes are skipped", uri)
                self._summary["failed_items"] += 1
                continue
            for route, kind, name in (("favourited_by", "like", "likes"),
                                      ("reblogged_by", "repost", "reposts")):
                task = f"{name}:{uri}"

                def fetch(cursor, limit, route=route, kind=kind, task=task, uri=uri, sid=sid):
                    url = cursor or f"{self.base()}/statuses/{sid}/{route}"
                    body, nxt = self.get(url, None if cursor else {"limit": limit},
                                         f"statuses/{route}")
                    page = self.page(task)
                    page.partial = self.partial
                    for obj in body if isinstance(body, list) else []:
                        page.items += 1
                        try:
                            src = add_account(page, obj, self.server,
                                              "liker" if kind == "like" else "reposter")
                            if src and src != acct:
                                page.interaction(src, acct, kind, post_id=uri)
                        except Exception as exc:
                            page.fail(route, obj, exc)
                    page.next_cursor = nxt
                    return page
                self.paged(task, fetch, limit=self.page_limit, item_level=True)

    def plan(self) -> None:
        """profile → followers → following → statuses → engagement → depth 2."""
        acct = self.target_key(self.target)
        # a resumed crawl keeps the server it was started with
        self.server = (self.params.get("via") or self.home).lower()
        self.partial = self.server != self.home
        local_id = self.resolve(acct, "profile", self.server)
        p = self.params
        if p.get("followers"):
            self.account_list(local_id, acct, "in", self.server)
        if p.get("follows"):
            self.account_list(local_id, acct, "out", self.server)
        if p.get("posts"):
            self.statuses(local_id, acct)
        if p.get("engagement"):
            self.engagement(acct)
        if p.get("follow_times"):
            self._summary.setdefault("notes", []).append(
                "Mastodon publishes no follow times: they stay unknown")
        if int(p.get("depth") or 1) >= 2:
            around = sorted({a for d in ("in", "out") for a, _ in
                             self.store.crawl_neighbours(PLATFORM, self.stored("src", acct), d)})
            if p.get("max"):
                around = around[:p["max"]]
            for other in self.raw_ids(around):
                home = other.partition("@")[2]
                try:
                    oid = self.resolve(other, f"profile:{other}", home)
                except FetchError as exc:
                    if isinstance(exc, RateLimited):
                        raise
                    log.warning("cannot reach %s: %s; skipped", home, exc)
                    self._summary["failed_items"] += 1
                    continue
                if not oid or self.tasks.get(self.task_key(f"profile:{other}"), {}).get("note"):
                    continue
                if p.get("followers"):
                    self.account_list(oid, other, "in", home)
                if p.get("follows"):
                    self.account_list(oid, other, "out", home)


def crawl_mastodon(store, account: str, **kwargs: Any) -> dict:
    """Crawl one Mastodon account (``user@server``) into ``store``; returns the summary.

    Parameters are those of :class:`MastodonCrawl`.

    Examples
    --------
    >>> import httpx
    >>> from trueclout.store import Store
    >>> def handler(request):
    ...     if request.url.path.endswith("/lookup"):
    ...         return httpx.Response(200, json={"id": "1", "acct": "ann"})
    ...     return httpx.Response(200, json=[])
    >>> s = Store(":memory:")
    >>> crawl_mastodon(s, "ann@m.test", transport=httpx.MockTransport(handler))["status"]
    'done'
    """
    return MastodonCrawl(store, account, **kwargs).run()
