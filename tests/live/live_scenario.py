"""The seeded network of the live tests, and what a crawl of it must find.

Two targets. ``star`` (``star.test``) is crawled as it is seeded; ``moon`` is crawled,
changed (unfollows, a block, a deleted post, renames), crawled again and then followed
again. 182 accounts:

* ``f000`` .. ``f159``, ``o000`` .. ``o019``; even-numbered ``f`` accounts have avatars,
  ``f003`` and ``f053`` (both following ``star``) label themselves bots;
* ``f000`` .. ``f149`` follow ``star``; ``f148`` then unfollows it and ``f149`` blocks it,
  so the AppView lists 148 followers (a block hides the follow both ways);
* ``star`` follows ``o000`` .. ``o019`` and ``f000`` .. ``f019`` (20 mutual);
* ``f000`` .. ``f059`` and ``f150`` .. ``f159`` follow ``moon``;
* ``star`` posts ``s0`` .. ``s4``: tags, a mention of ``f001``, a reply to ``f002``'s post,
  a quote of ``f003``'s post; it reposts ``f004``'s post; ``s<k>`` is liked by
  ``f010`` .. ``f010+3k`` and reposted by ``f040`` .. ``f039+k``;
* ``moon`` posts ``m0`` and ``m1``.

Examples
--------
>>> ops = seed_ops()
>>> sum(1 for batch in ops for op in batch if op["op"] == "account")
182
>>> len(STAR_FOLLOWERS), len(STAR_FOLLOWS), len(MOON_FOLLOWERS)
(148, 40, 70)
"""

from __future__ import annotations

F = [f"f{i:03d}" for i in range(160)]
O = [f"o{i:03d}" for i in range(20)]
ACCOUNTS = ["star", "moon", *F, *O]

#: Who ``star``'s followers are once seeding is over (the AppView's list).
STAR_FOLLOWERS = F[:148]
#: Whom ``star`` follows.
STAR_FOLLOWS = O + F[:20]
MOON_FOLLOWERS = F[:60] + F[150:160]
STAR_POSTS = ["s0", "s1", "s2", "s3", "s4"]
#: Likes per post of ``star`` (``s<k>``: ``f010`` .. ``f010+3k``).
LIKERS = {f"s{k}": F[10:11 + 3 * k] for k in range(5)}
REPOSTERS = {f"s{k}": F[40:40 + k] for k in range(5)}


#: How many ops of each batch of :func:`seed_ops` may run at once. Only the accounts run
#: in parallel: the AppView's paging (``getFollowers``, ``getLikes``) can drop or reorder
#: records made in the same instant, which would make its lists differ between requests.
PARALLEL = (8, 1, 1, 1, 1)


def seed_ops() -> list[list[dict]]:
    """The seeding, as batches of ops for ``LiveStack.ops`` (batch ``i`` runs
    ``PARALLEL[i]`` ops at a time; batches run in order).

    Examples
    --------
    >>> [len(b) for b in seed_ops()][:2]
    [182, 260]
    """
    accounts = [{"op": "account", "name": "star", "displayName": "Star",
                 "description": "I post about #trueclout", "avatar": True},
                {"op": "account", "name": "moon", "displayName": "Moon",
                 "description": "the other one"}]
    for i, n in enumerate(F):
        accounts.append({"op": "account", "name": n, "displayName": f"F {i}",
                         "avatar": i % 2 == 0, "bot": i in (3, 53)})
    accounts += [{"op": "account", "name": n} for n in O]
    follows = [{"op": "follow", "from": f, "to": "star"} for f in F[:150]]
    follows += [{"op": "follow", "from": "star", "to": o} for o in STAR_FOLLOWS]
    follows += [{"op": "follow", "from": f, "to": "moon"} for f in MOON_FOLLOWERS]
    others = [{"op": "post", "by": "f002", "key": "fp2", "text": "a question"},
              {"op": "post", "by": "f003", "key": "fp3", "text": "worth quoting"},
              {"op": "post", "by": "f004", "key": "fp4", "text": "worth a repost #live"},
              {"op": "post", "by": "moon", "key": "m0", "text": "moon rises #live"},
              {"op": "post", "by": "moon", "key": "m1", "text": "moon sets"},
              {"op": "unfollow", "from": "f148", "to": "star"},
              {"op": "block", "from": "f149", "to": "star"}]
    star = [{"op": "post", "by": "star", "key": "s0", "text": "hello #trueclout #live"},
            {"op": "post", "by": "star", "key": "s1", "text": "thanks @f001.test"},
            {"op": "post", "by": "star", "key": "s2", "text": "an answer", "replyTo": "fp2"},
            {"op": "post", "by": "star", "key": "s3", "text": "look", "quote": "fp3"},
            {"op": "post", "by": "star", "key": "s4", "text": "last one #live"},
            {"op": "repost", "by": "star", "key": "fp4"}]
    engage = [{"op": "like", "by": f, "key": k} for k, fs in LIKERS.items() for f in fs]
    engage += [{"op": "repost", "by": f, "key": k} for k, fs in REPOSTERS.items() for f in fs]
    return [accounts, follows, others, star, engage]


def moon_changes() -> list[dict]:
    """What happens to ``moon`` between its first and second crawl.

    Examples
    --------
    >>> sorted({op["op"] for op in moon_changes()})
    ['block', 'deletePost', 'handle', 'profile', 'unfollow']
    """
    return [{"op": "unfollow", "from": f, "to": "moon"} for f in ("f150", "f151", "f152")] + [
        {"op": "block", "from": "f153", "to": "moon"},
        {"op": "deletePost", "key": "m1"},
        {"op": "handle", "name": "f050", "handle": "f050-renamed.test"},
        {"op": "profile", "name": "f050", "displayName": "Fifty"},
        {"op": "profile", "name": "moon", "displayName": "New Moon"}]
