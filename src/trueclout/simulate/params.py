"""Parameters of the simulated platform, with their defaults and where each comes from.

Examples
--------
>>> from trueclout.simulate.params import SimParams
>>> p = SimParams(accounts=2000)
>>> p.num_communities()
11
>>> p.replace(mean_following=20).mean_following
20.0
>>> SimParams(accounts=10, fraud_share=2).validate()
Traceback (most recent call last):
...
trueclout.errors.UsageError: fraud_share must be within [0, 0.5], got 2
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

from ..errors import UsageError

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000


@dataclass(frozen=True)
class SimParams:
    """Every knob of the simulator. Pass any of them as keywords to ``simulate``.

    Counts named "graph" are numbers of follow rows written; the profile counts of the
    ``accounts`` table are those multiplied by ``count_scale`` (see the README).

    Examples
    --------
    >>> SimParams().mean_following
    30.0
    >>> SimParams.from_kwargs(accounts=100, seed=3).seed
    3
    >>> SimParams.from_kwargs(nope=1)
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: unknown simulator parameter(s): nope
    """

    # --- size and time ---------------------------------------------------------------
    # the demo simulates about 50,000 accounts (config sim_accounts)
    accounts: int = 50_000
    # config sim_seed; any integer, same seed gives the same rows
    seed: int = 0
    # our choice: a fixed end of observation keeps the output reproducible
    end: str = "2024-07-01T00:00:00+00:00"
    # brief: follower growth observed over about the last 6 months
    span_days: int = 182
    # Social Blade style weekly snapshots of the profile counts
    snapshot_every_days: int = 7
    # our choice: snapshot every account up to this size (rows = accounts x 27)
    snapshot_all_max: int = 200_000
    # our choice: above it, ground-truth accounts plus this many random accounts
    snapshot_sample: int = 100_000

    # --- organic follow graph ----------------------------------------------------------
    # brief: K about sqrt(N)/4 topic communities; 0 means that rule, clipped to [2, 1000]
    communities: int = 0
    # our choice: lognormal spread of community sizes (largest about 10x the median)
    community_sigma: float = 0.8
    # brief: 20-40 follows per account on average (50M follows for about 2M accounts)
    mean_following: float = 30.0
    # Cresci E13 friends_count quartiles 115 and 437: ln(437/115)/1.349 = 0.99
    following_sigma: float = 1.0
    # Twitter's historic 5,000-follow limit (before ratio-based limits)
    max_following: int = 5000
    # Kwak et al. 2010: in-degree power law exponent 2.28, so CCDF (Pareto) tail ~1.2
    popularity_alpha: float = 1.2
    # lognormal spread on attractiveness; with 1.0 the deciles of followers_count of
    # simulated humans match E13 (p10/p25/p50/p75/p90 = 21/46/102/266/656)
    popularity_sigma: float = 1.0
    # Cresci E13: corr(log followers, log friends) = 0.77 (latent Gaussian copula)
    degree_correlation: float = 0.7
    # our choice after Weng et al. 2010 (topical homophily): 3 in 4 follows in-community
    local_share: float = 0.75
    # share of same-community pairs of ordinary accounts that are mutual; tuned so that
    # about 22% of connected pairs are mutual (Kwak et al. 2010: 22.1%)
    reciprocity: float = 0.7
    # our choice: the most popular 1% do not follow peers back
    peer_quantile: float = 0.99
    # our choice: a follow-back comes about a day after the follow
    followback_delay_hours: float = 24.0
    # our choice: accounts younger than this have proportionally fewer follows
    mature_age_days: int = 730
    # E13 has no account under 2 years (it sampled 2013 voters in 2015); this share of
    # accounts is younger, created uniformly over the last 2 years
    new_account_share: float = 0.1
    # profile counts = graph degree x this: the follows written are a sample of the
    # platform's; 10 puts the median human near E13's 226 following / 102 followers
    count_scale: float = 10.0

    # --- posts and interactions ------------------------------------------------------
    # our choice: share of honest accounts that never post within the span
    inactive_share: float = 0.2
    # brief: about 2-5 posts per active account within the span
    posts_per_account: float = 3.0
    # our choice: lognormal sigma of posting and engagement activity
    activity_sigma: float = 1.0
    # our choice: share of posts that mention one account of the author's community
    mention_share: float = 0.1
    # brief: at most about one interaction per follow; interactions per follow edge
    interactions_per_follow: float = 0.3
    # our choice: extra interactions from non-followers to popular accounts, per follow
    nonfollower_interactions: float = 0.03
    # our choice, typical Twitter mix: like, repost, reply, quote shares
    kind_shares: tuple[float, float, float, float] = (0.72, 0.15, 0.10, 0.03)
    # our choice: median delay from a post to an organic interaction, minutes
    interaction_delay_minutes: float = 30.0

    # --- attacks ---------------------------------------------------------------------
    # brief: about 1% of accounts are fraudulent (fakes + farm + pod)
    fraud_share: float = 0.01
    # our choice: share of the fraudulent accounts that are bought fakes
    fake_share_of_fraud: float = 0.75
    # our choice: share that run follow-back campaigns (the rest are pod members)
    farm_share_of_fraud: float = 0.05
    # our choice: fakes per seller; intertwitter sold packs of 1,000-20,000 followers
    seller_pool: int = 2000
    # Cresci INT median friends_count 344 / count_scale: graph follows per fake
    fake_following: float = 34.0
    # brief: camouflage follows per fraudulent follow of a fake (1:1)
    camouflage_ratio: float = 1.0
    # our choice: half the camouflage goes to popular accounts, half uniformly at random
    camouflage_popular_share: float = 0.5
    # Cresci INT median followers_count 18 / count_scale, so the Poisson median is 2
    fake_followers: float = 2.0
    # our choice: posts per fake within the span (INT median statuses 36 over 2.6 years)
    fake_posts: float = 0.3
    # INT has 0.3% egg avatars, FSF and TWT far more; "sometimes" (brief)
    fake_default_image_share: float = 0.05
    # brief: a customer buys about as many followers as it has (doubling its audience)
    buy_factor: float = 1.0
    # our choice: smallest purchase, in graph follows
    min_buy: int = 20
    # our choice: a purchased batch is delivered within about this many hours
    burst_hours: float = 24.0
    # brief: farms mass-follow "thousands"; 0 means clip(N/100, 100, 3000) graph follows
    farm_targets: int = 0
    # our choice after Ghosh et al. 2012 (social capitalists follow back): follow-back rate
    followback_rate: float = 0.2
    # our choice: share of the non-reciprocating targets a farm unfollows
    farm_unfollow_share: float = 0.5
    # our choice: days a farm waits before unfollowing (min, max)
    farm_unfollow_days: tuple[float, float] = (2.0, 10.0)
    # our choice: posts per farm account within the span
    farm_posts: float = 6.0
    # brief: engagement pods of 10-30 accounts
    pod_size: tuple[int, int] = (10, 30)
    # our choice: probability that a pod member likes, reposts, replies to a pod post
    pod_engagement: tuple[float, float, float] = (0.95, 0.5, 0.4)
    # brief: pod engagement comes within minutes; mean delay in minutes
    pod_delay_minutes: float = 4.0
    # our choice: posts per pod member within the span (pods exist to push posts)
    pod_posts: float = 8.0
    # our choice: share of honest accounts that go viral within the span
    fast_share: float = 0.0005
    # our choice: a viral account gains this many times its organic audience
    viral_factor: float = 3.0
    # our choice: length of a viral burst in days (min, max)
    viral_days: tuple[float, float] = (3.0, 14.0)
    # our choice: on platforms of at least this size, plant at least one seller of 20
    # fakes, one farm, one pod and one viral account so that every attack is present
    min_plant_accounts: int = 500

    # --- output ----------------------------------------------------------------------
    # our choice: rows per Parquet part file of the large tables
    part_rows: int = 4_000_000
    # our choice: rows per Parquet row group
    row_group_rows: int = 1_000_000

    # ------------------------------------------------------------------------------------
    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> "SimParams":
        """Build parameters from keywords, refusing unknown names.

        Examples
        --------
        >>> SimParams.from_kwargs(accounts=500).accounts
        500
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise UsageError(f"unknown simulator parameter(s): {', '.join(unknown)}")
        clean = {}
        for f in fields(cls):
            if f.name in kwargs and kwargs[f.name] is not None:
                clean[f.name] = _coerce(f, kwargs[f.name])
        p = cls(**clean)
        p.validate()
        return p

    def replace(self, **kwargs: Any) -> "SimParams":
        """A copy with some parameters changed (validated).

        Examples
        --------
        >>> SimParams().replace(seed=4).seed
        4
        """
        return SimParams.from_kwargs(**{**dataclasses.asdict(self), **kwargs})

    def to_dict(self) -> dict[str, Any]:
        """Parameters as a JSON-ready dict.

        Examples
        --------
        >>> SimParams().to_dict()["span_days"]
        182
        """
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}

    def validate(self) -> None:
        """Raise :class:`~trueclout.errors.UsageError` on an impossible setting.

        Examples
        --------
        >>> SimParams(accounts=0).validate()
        Traceback (most recent call last):
        ...
        trueclout.errors.UsageError: accounts must be at least 2, got 0
        """
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise UsageError(msg)

        need(2 <= self.accounts <= 99_000_000, f"accounts must be at least 2, got {self.accounts}"
             if self.accounts < 2 else f"accounts must be at most 99,000,000, got {self.accounts}")
        need(self.span_days >= 14, f"span_days must be at least 14, got {self.span_days}")
        need(1 <= self.snapshot_every_days <= self.span_days,
             f"snapshot_every_days must be within [1, span_days], got {self.snapshot_every_days}")
        need(self.mean_following > 0, f"mean_following must be positive, got {self.mean_following}")
        need(self.popularity_alpha > 1.0,
             f"popularity_alpha must exceed 1, got {self.popularity_alpha}")
        need(self.count_scale >= 1.0, f"count_scale must be at least 1, got {self.count_scale}")
        for name in ("fraud_share",):
            v = getattr(self, name)
            need(0 <= v <= 0.5, f"{name} must be within [0, 0.5], got {v}")
        for name in ("local_share", "reciprocity", "peer_quantile", "new_account_share",
                     "inactive_share", "mention_share", "fake_share_of_fraud",
                     "farm_share_of_fraud", "camouflage_popular_share",
                     "fake_default_image_share", "followback_rate", "farm_unfollow_share",
                     "fast_share", "degree_correlation"):
            v = getattr(self, name)
            need(0 <= v <= 1, f"{name} must be within [0, 1], got {v}")
        need(self.fake_share_of_fraud + self.farm_share_of_fraud <= 1,
             "fake_share_of_fraud + farm_share_of_fraud must be at most 1")
        need(len(self.kind_shares) == 4 and min(self.kind_shares) >= 0
             and sum(self.kind_shares) > 0, "kind_shares must be 4 non-negative numbers")
        need(2 <= self.pod_size[0] <= self.pod_size[1],
             f"pod_size must be (min, max) with 2 <= min <= max, got {self.pod_size}")
        for name in ("farm_unfollow_days", "viral_days"):
            lo, hi = getattr(self, name)
            need(0 < lo <= hi, f"{name} must be (min, max) with 0 < min <= max")
        for name in ("posts_per_account", "interactions_per_follow", "nonfollower_interactions",
                     "fake_following", "camouflage_ratio", "fake_followers", "fake_posts",
                     "buy_factor", "burst_hours", "farm_posts", "pod_posts", "viral_factor",
                     "followback_delay_hours", "pod_delay_minutes", "following_sigma",
                     "activity_sigma", "community_sigma", "interaction_delay_minutes",
                     "popularity_sigma"):
            v = getattr(self, name)
            need(v >= 0, f"{name} must not be negative, got {v}")
        for name in ("part_rows", "row_group_rows", "seller_pool", "max_following",
                     "mature_age_days"):
            v = getattr(self, name)
            need(v >= 1, f"{name} must be at least 1, got {v}")
        try:
            self.end_us()
        except ValueError as exc:
            raise UsageError(f"end must be an ISO date-time, got {self.end!r}") from exc

    # --- derived values ------------------------------------------------------------------
    def num_communities(self) -> int:
        """K, the number of topic communities.

        Examples
        --------
        >>> SimParams(accounts=2_000_000).num_communities()
        354
        """
        if self.communities > 0:
            return min(self.communities, max(1, self.accounts // 2))
        return int(min(1000, max(2, round(math.sqrt(self.accounts) / 4))))

    def num_farm_targets(self) -> int:
        """Accounts each follow-back farm follows.

        Examples
        --------
        >>> SimParams(accounts=50_000).num_farm_targets()
        500
        """
        if self.farm_targets > 0:
            return self.farm_targets
        return int(min(3000, max(100, self.accounts // 100)))

    def end_us(self) -> int:
        """End of observation in microseconds since the epoch (UTC).

        Examples
        --------
        >>> SimParams().end_us()
        1719792000000000
        """
        dt = datetime.fromisoformat(self.end)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return int(round(dt.timestamp() * 1_000_000))

    def start_us(self) -> int:
        """Start of the observed span in microseconds.

        Examples
        --------
        >>> (SimParams().end_us() - SimParams().start_us()) // DAY_US
        182
        """
        return self.end_us() - self.span_days * DAY_US

    def snapshot_times(self) -> list[int]:
        """Times of the profile snapshots (microseconds): every ``snapshot_every_days``
        from the start of the span, and the end.

        Examples
        --------
        >>> len(SimParams().snapshot_times())
        27
        """
        start, end = self.start_us(), self.end_us()
        step = self.snapshot_every_days * DAY_US
        times = list(range(start, end, step))
        return times + [end]


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    default = f.default
    try:
        if isinstance(default, bool):
            return bool(value)
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            return tuple(type(default[0])(x) for x in value)
        return type(default)(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"simulator parameter {f.name} must be like {default!r}, "
                         f"got {value!r}") from exc
