"""Crawls of Bluesky and Mastodon: resumable, rate-limit aware, loaded through the store.

See ``README.md`` in this folder. The entry points are :func:`crawl_bluesky` and
:func:`crawl_mastodon` (one crawl of one account into a store; ``resume=True`` continues
the latest unfinished crawl of the same account).

Examples
--------
>>> from trueclout.crawl import crawl_bluesky, crawl_mastodon
>>> callable(crawl_bluesky) and callable(crawl_mastodon)
True
"""

from .checkpoint import CrawlStopped, CrawlRun, TargetNotFound
from .bluesky import BlueskyCrawl, crawl_bluesky
from .mastodon import MastodonCrawl, crawl_mastodon

__all__ = ["CrawlRun", "CrawlStopped", "TargetNotFound", "BlueskyCrawl", "MastodonCrawl", "crawl_bluesky",
           "crawl_mastodon"]
