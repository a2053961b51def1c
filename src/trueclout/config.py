"""One declarative table of settings.

Every tunable constant of trueclout lives in :data:`SETTINGS`, with its default, its help
text and where the value comes from. Values are read, in rising priority, from the
defaults, a TOML file (``trueclout.toml`` in the working folder, or the file named by
``TRUECLOUT_CONFIG``), environment variables (``TRUECLOUT_<NAME>`` in upper case) and
explicit overrides (CLI flags).

Examples
--------
>>> from trueclout.config import get, SETTINGS
>>> get("db") == "trueclout.duckdb" or "TRUECLOUT_DB" in __import__("os").environ
True
>>> get("ingest_batch_rows", overrides={"ingest_batch_rows": 5})
5
>>> all(s.help and s.source for s in SETTINGS.values())
True
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default value, help and the origin of the constant.

    Examples
    --------
    >>> Setting("x", 1, "an example", "made up").type
    <class 'int'>
    """

    name: str
    default: Any
    help: str
    source: str

    @property
    def type(self) -> type:
        return type(self.default)


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    Setting("db", "trueclout.duckdb", "Path of the DuckDB store.",
            "the design: ./trueclout.duckdb"),
    Setting("lock_wait_s", 30.0,
            "Seconds a writer waits for another process to release the store before failing.",
            "our choice: long enough for a small load, short enough to notice a stuck writer"),
    Setting("duckdb_memory_limit", "4GB",
            "DuckDB's memory limit; larger work spills to the store's temp folder.",
            "our choice: leaves room for CSR arrays within a 24 GB machine"),
    Setting("duckdb_threads", 0, "DuckDB worker threads; 0 means one per core.", "DuckDB default"),
    Setting("ingest_batch_rows", 262144, "Rows per Arrow record batch that readers yield.",
            "our choice: large enough to amortise per-batch cost, small enough for memory"),
    Setting("default_platform", "default",
            "Platform that scopes ids when a source does not name one.", "our choice"),
    Setting("graph_batch_rows", 1_000_000,
            "Edges fetched from the store per batch while building the graph.",
            "our choice: 1M-edge batches keep DuckDB's result buffers small next to the CSR "
            "(measured: 4M-edge batches added about 300 MB)"),
    Setting("audit_bootstrap", 2000, "Draws for the audit's intervals (composition, "
            "corrected fake share).",
            "Efron & Tibshirani: 1,000-2,000 replicates for percentile intervals"),
    Setting("audit_prior", 1.0,
            "Total pseudo-count of the Dirichlet prior that the audit's composition "
            "intervals draw from (a Bayesian bootstrap with a prior), spread evenly over the "
            "categories.",
            "Perks' prior (1/K per category, total 1): intervals are never zero-width, and "
            "12 of 12 real followers gives 78-100%, not 100-100%"),
    Setting("audit_min_youden", 0.2,
            "Smallest sensitivity + specificity - 1 of the classifier (measured on held-out "
            "sources) for which the audit corrects its fake share (Rogan-Gladen); below it "
            "the correction is reported as undefined.",
            "our choice: at J = 0.2 the correction multiplies the observed share's error "
            "by 5; below, the interval spans most of [0, 1]"),
    Setting("audit_strata", 5, "Follow-time strata when only a sample of followers is known.",
            "Cochran, Sampling Techniques: 5 strata capture most of the gain of stratifying"),
    Setting("aqs_weight_real", 0.6, "Weight of the real-audience share in the AQS.",
            "our choice: the audience itself matters most to a marketer"),
    Setting("aqs_weight_engagement", 0.25, "Weight of authentic engagement in the AQS.",
            "our choice"),
    Setting("aqs_weight_growth", 0.15, "Weight of organic (not bought) growth in the AQS.",
            "our choice"),
    Setting("ensemble_weight_classifier", 1.0, "Weight of the classifier in the ensemble.",
            "our choice: a member past its own threshold flags on its own"),
    Setting("ensemble_weight_classifier_with_graph", 0.45,
            "Weight of the classifier for accounts whose follows the graph knows: below 0.5, "
            "so the profile alone cannot flag them without a graph detector's corroboration.",
            "measured on the simulator: 0.45 keeps every planted fraud and flags no human"),
    Setting("ensemble_weight_lockstep", 1.0, "Weight of the lockstep detector.", "our choice"),
    Setting("ensemble_weight_farm", 1.0, "Weight of the follow-back farm detector.",
            "our choice"),
    Setting("ensemble_weight_pods", 1.0, "Weight of the engagement-pod detector.", "our choice"),
    Setting("ensemble_weight_sybilrank", 0.15,
            "Weight of SybilRank: trust that does not reach an account is weak evidence alone.",
            "our choice; Cao et al. 2012 use SybilRank to rank, not to decide"),
    Setting("mass_follower_min_following", 2000,
            "Following count from which an account that follows far more than it is followed "
            "counts as a mass-follower in audits.",
            "Twitter's follow limit of 2,000 before the ratio rule applied; Ghosh et al. 2012"),
    Setting("mass_follower_min_ratio", 10.0,
            "Following/followers ratio from which a big follower is a mass-follower.",
            "our choice: an order of magnitude"),
    Setting("inactive_days", 90, "Days without a post after which an account is inactive.",
            "common industry practice (e.g. 90-day activity windows in audience audits)"),
    Setting("sim_accounts", 50_000, "Accounts in the demo's simulated platform.",
            "the design: the demo simulates about 50,000 accounts"),
    Setting("sim_seed", 0, "Seed of the simulator.", "our choice"),
    # -- detect/features.py, detect/classifier.py -----------------------------
    Setting("detect_min_age_days", 1.0,
            "Smallest account age, in days, that rates per day divide by.",
            "our choice: keeps rates of accounts created on the day observed finite"),
    Setting("media_platforms", "instagram,tiktok,youtube,pinterest,flickr,vsco,snapchat",
            "Platforms (comma-separated) whose posts are photos or videos: there a real "
            "account has tens of "
            "posts, not the thousands of a text platform (the classifier's posts_are_media "
            "feature).",
            "InstaFake (Akyon and Kalfaoglu 2019): real Instagram accounts median 30 posts; "
            "Cresci 2017 genuine Twitter accounts median 6,609 tweets"),
    Setting("detect_burst_window_s", 86_400,
            "Window, in seconds, of the follow-burst features (followers gained within it).",
            "our choice: a day, the delivery time of a bought batch (Social Blade's daily "
            "view; the simulator delivers a batch within 24 hours)"),
    Setting("detect_burst_prior", 10.0,
            "Pseudo-count added to the known follows when a burst share is computed, so "
            "an account with 2 followers gained on one day is not a 100% burst.",
            "our choice: shrinks shares of accounts with under about 10 timed follows"),
    Setting("detect_suspicious_ratio", 10.0,
            "An account that follows more than this many times as many accounts as follow "
            "it counts as suspicious in the share-of-suspicious-followees feature.",
            "our choice: Cresci 2015 INT fakes have median 344 following and 18 followers "
            "(ratio 19); E13 humans median 226 and 102 (ratio 2.2)"),
    Setting("classifier_threshold", 0.3,
            "Authenticity (P(real) under equal priors) at or below which the classifier "
            "predicts fake: it flags an account only when P(fake) is at least 0.7.",
            "chosen on the leave-one-source-out table of the default model (detect/models/"
            "MODEL_CARD.md): at 0.3 the held-out humans flagged are 0.3% (Cresci 2015), 14% "
            "(Botometer feedback), 4% (social honeypot) and 15% (BAS) while 88% of Cresci "
            "2015's bought followers are caught (MCC 0.885); at 0.5 those humans are flagged "
            "1%, 21%, 5% and 48%. Calling a real follower fake costs a creator more than "
            "missing one fake costs a marketer"),
    Setting("classifier_source_weighting", "sqrt",
            "How labelled sources weigh within a class when the classifier trains: sqrt "
            "(a source of k accounts weighs sqrt(k)), equal (every source the same) or "
            "none (every account the same).",
            "our choice, after Yang et al. 2020 (BotometerLite: balanced training sets "
            "generalise): sqrt keeps 17,882 porn bots from drowning 469 verified humans "
            "without letting 62 political bots weigh as much as them; see detect/README.md"),
    Setting("classifier_ood_features", 2,
            "Features far beyond the range the classifier was trained on (see "
            "classifier_ood_margin; only features without a monotonic direction, where the "
            "trees cannot extrapolate safely) that make a profile 'uncertain' instead of a "
            "confident verdict; 0 never abstains.",
            "our choice: one extreme value is common among real accounts; two at once "
            "marked well under 1% of the held-out sources (detect/README.md)"),
    Setting("classifier_ood_margin", 0.5,
            "How far beyond a feature's training range (0.1%-99.9%), in widths of that "
            "range, a value must lie to count towards 'uncertain'.",
            "our choice: 100 million followers is beyond every training account but not "
            "unlike them (the trees' flat end is right); a 5,000-character description is"),
    Setting("classifier_select_max_iter", 60,
            "Boosting rounds of the trees that compare training mixes when the sources are "
            "chosen (train --select-sources, make model).",
            "our choice: the choice only compares mixes by held-out AUC, over some 50 "
            "leave-one-source-out runs; fewer rounds make each one cheaper"),
    Setting("classifier_folds", 3,
            "Cross-validation folds that calibrate the classifier's probabilities when its "
            "training labels come from a single source.",
            "our choice: 3 folds gave the same Cresci and cross-source figures as 5 in "
            "about half the time"),
    Setting("classifier_max_iter", 100,
            "Boosting rounds of the gradient-boosted trees.",
            "our choice: 200 rounds changed no Cresci or cross-source figure by more than "
            "0.01 and took twice as long"),
    Setting("classifier_learning_rate", 0.1,
            "Learning rate of the gradient-boosted trees.", "scikit-learn's default"),
    Setting("classifier_max_leaf_nodes", 15,
            "Leaves per tree of the gradient-boosted trees.",
            "our choice: shallow trees generalise better across data sets"),
    Setting("classifier_min_samples_leaf", 20,
            "Fewest training rows per leaf of the gradient-boosted trees.",
            "scikit-learn's default"),
    Setting("classifier_max_features", 0.5,
            "Share of the features each split of the boosted trees may choose from.",
            "our choice: below 1 the model spreads over many features, which held up "
            "better when trained on one source and tested on another"),
    Setting("classifier_fit_threads", 1,
            "OpenMP threads that train the classifier; 0 means one per core.",
            "measured: training sets of tens of thousands of rows trained 4 times faster "
            "on 1 thread than on 2 busy cores (thread contention)"),
    Setting("simulator_model_accounts", 20_000,
            "Accounts, over all the simulated platforms, that the simulator classifier "
            "(--model simulator) is trained on (split evenly between the platforms of "
            "SIMULATOR_PLATFORMS).",
            "the design: about 20,000 accounts"),
    Setting("simulator_model_seed", 1,
            "Seed of the simulator classifier's first simulated platform (the next ones "
            "take the following seeds).",
            "our choice: fixed, so the default model is reproducible"),
    Setting("simulator_model_fraud_share", 0.1,
            "Share of fraudulent accounts in the simulator classifier's platforms.",
            "our choice: 10% gives 1,600 fakes and farms to learn from at 20,000 accounts "
            "(the platform default of 1% gives 150)"),
    Setting("cache", "",
            "Folder where the simulator classifier is cached (TRUECLOUT_CACHE); empty means "
            "~/.cache/trueclout.",
            "XDG base directory convention"),
    # -- detect/farm.py: follow-back farms, Ghosh et al. WWW 2012 --------------
    Setting("farm_threshold", 0.5, "Farm score at or above which an account is flagged.",
            "our choice: the scores combine probabilities-like curves; 0.5 is their midpoint"),
    Setting("farm_ratio_mid", 8.0,
            "Following/followers ratio at which the smooth ratio penalty is one half.",
            "our choice: Cresci 2015 E13 humans have median ratio 2.2 and INT fakes 19; at "
            "4 reciprocal humans of the simulator who follow 2,000 (5.6 times their "
            "followers) were flagged; "
            "unlike Tweepcred's cliffs at 500 and 2,500 follows the curve is a logistic in "
            "the log-ratio (detect/farm.py)"),
    Setting("farm_ratio_width", 0.3,
            "Width of the ratio penalty's logistic, in natural-log units of the ratio "
            "(the penalty goes from 0.27 to 0.73 between mid/1.35 and mid*1.35).",
            "our choice"),
    Setting("farm_ratio_pseudo", 10.0,
            "Pseudo-count added to both following and followers before the ratio is taken.",
            "our choice: an account with 30 following and 2 followers is not a 10x outlier"),
    Setting("farm_volume_mid", 300.0,
            "Accounts followed at which the farm volume gate is one half (smooth, in log).",
            "our choice: Ghosh 2012 link farmers follow thousands; E13 humans median 226"),
    Setting("farm_volume_width", 0.5, "Width of the volume gate, in natural-log units.",
            "our choice"),
    Setting("farm_followback_mid", 0.85,
            "Share of its followers an account follows back at which the follow-back "
            "curve is one half.",
            "our choice after Ghosh 2012: social capitalists and farmers follow back "
            "nearly everyone who follows them"),
    Setting("farm_followback_width", 0.04, "Width of the follow-back logistic (share units).",
            "our choice"),
    Setting("farm_followback_pseudo", 5.0,
            "Pseudo-followers added before the follow-back share is taken, so that few "
            "followers cannot give a high share.", "our choice"),
    Setting("farm_churn_days", 30.0,
            "An unfollow within this many days of the follow, of an account that had not "
            "followed back, counts as follow-back churn.",
            "our choice: follow-back campaigns unfollow within days (Ghosh 2012; the "
            "simulator waits 2-10 days)"),
    Setting("farm_churn_mid", 20.0,
            "Quick unfollows of non-reciprocators at which the churn count curve is one half.",
            "our choice: a user who prunes a handful of follows is not a campaign"),
    Setting("farm_churn_width", 0.35, "Width of the churn count curve, in log(1+count) units.",
            "our choice"),
    Setting("farm_churn_share_mid", 0.1,
            "Share of all follows made that were quick unfollows of non-reciprocators at "
            "which the churn share curve is one half.", "our choice"),
    Setting("farm_churn_share_width", 0.03, "Width of the churn share curve (share units).",
            "our choice"),
    Setting("farm_burst_days", 7.0,
            "Window, in days, in which the most follows an account made are counted.",
            "our choice: a campaign mass-follows over days to weeks"),
    Setting("farm_burst_mid", 60.0,
            "Follows made within the burst window at which the burst curve is one half.",
            "our choice"),
    Setting("farm_burst_width", 0.35, "Width of the burst curve, in log(1+count) units.",
            "our choice"),
    Setting("farm_capitalist_min_followers", 20.0,
            "Followers (in the graph) an account needs to count as a social capitalist.",
            "our choice after Ghosh 2012: capitalists are followed widely"),
    Setting("farm_capitalist_mid", 0.6,
            "Share of its followings that are social capitalists at which that curve is "
            "one half.", "our choice"),
    Setting("farm_capitalist_width", 0.08, "Width of the social-capitalist curve.",
            "our choice"),
    # -- detect/sybilrank.py: SybilRank, Cao et al. NSDI 2012 -------------------
    Setting("sybilrank_graph", "follow",
            "Graph SybilRank walks: follow (trust flows from a follower to whom it "
            "follows), mutual (reciprocal follows only) or undirected.",
            "our measurement: fake vs human AUC on the simulator 0.99 (follow), 0.97 "
            "(mutual), 0.36 (undirected: camouflage follows leak trust); detect/README.md"),
    Setting("sybilrank_iterations", 0,
            "Power-iteration steps of SybilRank; 0 means ceil(log2 n).",
            "Cao et al. 2012: O(log n) steps terminate the walk before it mixes into the "
            "fake region"),
    Setting("sybilrank_seed_share", 0.01,
            "Most accounts taken as SybilRank seeds from labels (a fixed random sample).",
            "Cao et al. 2012: a small trusted seed set; our cap so ground truth is not leaked"),
    Setting("sybilrank_threshold", 0.98,
            "SybilRank score (1 - normalised trust rank) at or above which an account is "
            "flagged: 0.98 flags the bottom 2% of the trust ranking and every account no "
            "trust reaches.",
            "our choice: Cao et al. inspect the bottom of the ranking"),
    Setting("sybilrank_fallback_min_mutual", 10,
            "Without labelled or verified seeds: mutual follows a fallback seed needs.",
            "our choice: an established account with a circle of mutual friends"),
    Setting("sybilrank_fallback_min_followback", 0.5,
            "Without labelled or verified seeds: share of its followers a fallback seed "
            "follows back.", "our choice: reciprocal, person-like accounts"),
    Setting("sybilrank_fallback_min_age_days", 365.0,
            "Without labelled or verified seeds: age a fallback seed needs, where "
            "creation times are known.",
            "our choice: bought fakes are often created in recent batches"),
    # -- detect/lockstep.py: Fraudar (Hooi et al. KDD 2016), CopyCatch --------
    Setting("lockstep_threshold", 0.5, "Lockstep score at or above which an account is flagged.",
            "our choice: scores are block strength x row fit, both in [0, 1]"),
    Setting("lockstep_blocks", 10,
            "Most dense blocks the Fraudar greedy extracts in sequence (edges of each "
            "found block are removed before the next peel).",
            "our choice: the injected SNAP block comes from the first peel, the 5 sellers of "
            "a 100,000-account simulation from the first 4; without times each peel costs "
            "about 7 s per 50M follows"),
    Setting("lockstep_min_ratio", 1.2,
            "Stop peeling when a block's weighted density is below this multiple of the "
            "graph's (Fraudar average weighted degree of the one-way follows examined).",
            "our measurement: the injected SNAP block is 4x, simulated sellers 2.7x, but "
            "a block of 30 follows per fake in a random graph of 25 per account only 1.5x"),
    Setting("lockstep_full_lift", 4.0,
            "Follows inside a block, as a multiple of the number their degrees predict "
            "(degree-preserving expectation: sum of the followers' out-degrees times sum "
            "of the targets' in-degrees over all follows), at which the block's density "
            "evidence is full (it rises linearly from 1x).",
            "our measurement: injected blocks on SNAP 7-15x, simulated sellers 8.5-54x; "
            "blocks their degrees explain 0.7-1.9x"),
    Setting("lockstep_split_min_lift", 1.2,
            "Blocks whose follows are below this multiple of what their degrees predict "
            "are not examined further (they cannot be lockstep; saves time).",
            "our measurement: degree-driven blocks 0.7-1.06x, a simulated seller merged "
            "with a community 1.58x"),
    Setting("lockstep_max_back_share", 0.1,
            "Share of a block's followers that the block's targets follow in return at "
            "which the block counts as a real community, not bought follows (evidence "
            "falls linearly from 0).",
            "our measurement: dense real parts of SNAP ego-Twitter 0.2-0.97 (a few small "
            "one-way fringes below 0.1), injected and simulated bought-follower blocks "
            "0.00-0.01"),
    Setting("lockstep_max_target_cohesion", 0.15,
            "Share of ordered pairs of a block's targets that follow one another at which "
            "the targets count as a community (fans of a group), not unrelated customers "
            "(evidence falls linearly from 0).",
            "our measurement: targets of injected and simulated bought-follower blocks "
            "0.000-0.019; one-way fan groups of SNAP ego-Twitter 0.12-0.64"),
    Setting("lockstep_min_rows", 10,
            "Fewest accounts a lockstep block needs (as followers).",
            "our choice; CopyCatch's n (Beutel et al. 2013) is of this order"),
    Setting("lockstep_min_cols", 3,
            "Fewest followed accounts a lockstep block needs.",
            "our choice: following the same one or two accounts is not lockstep"),
    Setting("lockstep_min_hits", 3,
            "Fewest follows into a block's targets an account needs to be scored as part "
            "of the block.", "our choice; CopyCatch's m"),
    Setting("lockstep_hits_full", 0.5,
            "Follows into the block's targets, as a share of the block's median, at which "
            "an account's fit to the block is full.", "our choice"),
    Setting("lockstep_share_full", 0.1,
            "Share of an account's follows that go to the block's targets at which its "
            "fit is full (accounts that follow thousands score lower).",
            "our choice: 1:9 camouflage still scores full"),
    Setting("lockstep_max_row_reciprocity", 0.05,
            "Accounts whose follows are returned (followed back) more often than this "
            "share take no part in lockstep blocks as followers: they belong to a "
            "community; bought fakes are not followed back by their customers.",
            "our measurement: simulated fakes 0 (p90), humans p10 0.12 and median 0.37, "
            "SNAP accounts median 0.5; on a 1.7M-account simulation without follow times "
            "the sellers merge into communities at 0.1-0.2 (recall 0.17 and 0) and are "
            "found at 0.05 (recall 0.9994)"),
    Setting("lockstep_customer_share_full", 0.2,
            "Share of an account's followers that come from a lockstep block at which "
            "its evidence of having bought them is full.",
            "our choice: the simulator's customers buy about as many as they have (0.5); "
            "popular accounts that fakes follow as camouflage stay under 0.05"),
    Setting("copycatch_window_s", 86400,
            "Half-width, in seconds, of the window in which follows of one account count "
            "as one burst (CopyCatch's delta t).",
            "our choice: bought followers are delivered within about a day"),
    Setting("copycatch_min_count", 5,
            "Fewest follows of one account within the window for a burst.", "our choice"),
    Setting("copycatch_rate_factor", 10.0,
            "How many times the account's average follower rate a burst must reach.",
            "our choice"),
    Setting("copycatch_min_span_days", 30.0,
            "Shortest time span used for an account's average follower rate, in days.",
            "our choice: a new account's first days are not its average"),
    Setting("copycatch_min_known_ts", 0.5,
            "Share of follows with a known time above which the lockstep detector uses the "
            "time variant when use_time='auto'.", "our choice"),
    # -- detect/growth.py: growth anomalies --------------------------------------
    Setting("growth_threshold", 0.5, "Growth score at or above which an account is flagged.",
            "our choice: midpoint of the composition curve"),
    Setting("growth_z", 5.0,
            "Robust z-score (gain above the median pace, over 1.4826 MAD) at which one "
            "interval is a burst.",
            "our choice: 5 robust sigmas; about one false burst per 3.5 million intervals "
            "under Gaussian noise"),
    Setting("growth_cusum_k", 1.0,
            "Allowance of the one-sided CUSUM over interval z-scores (sigmas).",
            "Page 1954 / Montgomery: k of half the shift to detect, here a 2-sigma rise"),
    Setting("growth_cusum_h", 6.0,
            "Alarm level of the CUSUM (sigmas accumulated above the allowance).",
            "our choice: Montgomery's h = 4-5 sigmas, raised for weekly series"),
    Setting("growth_min_excess", 50.0,
            "Smallest excess gain (followers above the baseline) that makes a period.",
            "our choice: below the smallest packs sellers offer (100 followers); the "
            "simulator splits its smallest purchase of 200 into bursts of 50-80"),
    Setting("growth_min_rel_excess", 0.05,
            "Smallest excess gain, as a share of the follower count before the period.",
            "our choice: 5% keeps counting noise of large accounts out"),
    Setting("growth_rel_noise", 0.25,
            "Floor of the noise scale, as a share of the expected gain of an interval.",
            "our choice: organic growth varies by about a quarter week to week"),
    Setting("growth_min_points", 5,
            "Fewest observations a series needs before bursts are looked for.",
            "our choice: the median and MAD need a handful of intervals"),
    Setting("growth_bin_days", 7.0,
            "Width, in days, of the intervals of series built from follow times.",
            "Social Blade's weekly view; the simulator snapshots weekly"),
    Setting("growth_series_days", 182.0,
            "Span, in days before the latest follow time, of series built from follow times.",
            "our choice: about six months, as the simulator observes"),
    Setting("growth_follower_ratio_mid", 5.0,
            "Following/followers ratio of a new follower at which it counts half as "
            "lopsided.",
            "Cresci 2015: INT fakes median ratio 19, E13 humans 2.2"),
    Setting("growth_follower_followers_mid", 100.0,
            "Followers of a new follower at which it counts half as 'few followers'.",
            "Cresci 2015: INT fakes median 18 followers, E13 humans 102"),
    Setting("growth_follower_width", 0.5,
            "Width, in natural-log units, of the few-followers and young-account curves of "
            "a new follower.", "our choice: a factor 1.65 moves the curve from 0.27 to 0.73"),
    Setting("growth_follower_ratio_width", 0.3,
            "Width, in natural-log units of the ratio, of a new follower's lopsidedness curve.",
            "our choice, as farm_ratio_width"),
    Setting("growth_follower_ratio_pseudo", 10.0,
            "Pseudo-count added to a new follower's following and followers before the "
            "ratio is taken.", "our choice, as farm_ratio_pseudo"),
    Setting("growth_young_days", 30.0,
            "Age, in days at the time it followed, at which a new follower counts half as "
            "young.", "our choice: a month"),
    Setting("growth_cluster_days", 7.0,
            "Window, in days, of creation times within which new followers count as "
            "created together.",
            "Cresci 2015: bought fakes are created in batches (INT within days)"),
    Setting("growth_lockstep_hours", 1.0,
            "Window, in hours, of follow times within which new followers count as "
            "following in lockstep.",
            "our choice after CopyCatch (Beutel 2013): lockstep within short windows"),
    Setting("growth_lockstep_weight", 0.25,
            "Weight of lockstep timing in a period's suspicious share.",
            "our choice: viral growth also starts steeply, so timing alone is weak"),
    Setting("growth_min_excess_share", 0.25,
            "Floor of the excess share of a period's gain that the suspicious share is "
            "compared with.", "our choice"),
    Setting("growth_suspicious_mid", 0.5,
            "Suspicious share (relative to the excess share) at which a period scores 0.5.",
            "our choice: half the excess explained by suspicious newcomers"),
    Setting("growth_suspicious_width", 0.08, "Width of that logistic curve.", "our choice"),
    # -- detect/pods.py: engagement pods ----------------------------------------
    Setting("pod_threshold", 0.5, "Pod score at or above which an account is flagged.",
            "our choice: the score is a product of four ramps in [0, 1]"),
    Setting("pod_min_pair", 3,
            "Interactions per direction, on average, that make two accounts engagement "
            "partners: at least twice this many (like, repost, reply, quote) in all and at "
            "least one each way; they must also follow each other.",
            "our measurement on the simulator (20,000 accounts): 99% of humans have at most "
            "one partner; pod members have 17-22 (a member with one post gets few back)"),
    Setting("pod_min_partners", 3.0,
            "Partners at or below which there is no pod evidence.",
            "our choice: a few close friends are not a pod"),
    Setting("pod_full_partners", 8.0,
            "Partners at which the size evidence is full.",
            "brief: pods have 10-30 members, so 9-29 partners each"),
    Setting("pod_closed_full", 0.5,
            "Share of an account's partner pairs that are partners themselves at which "
            "the closed-group evidence is full.", "our choice: pods are cliques (1.0)"),
    Setting("pod_inside_full", 0.5,
            "Share of the engagement an account gives and gets that is with its partners "
            "at which that evidence is full.",
            "our choice: simulated pod members 0.98, humans under 0.15 (p99)"),
    Setting("pod_window_s", 900,
            "Seconds within which interactions of partners with the same author count as "
            "bunched (pods engage within minutes of a post).",
            "our choice after the brief's 'minutes'; the simulator's pod delay is 4 minutes"),
    Setting("pod_quick_min", 2,
            "Other partners that must engage the same author within the window.",
            "our choice"),
    Setting("pod_quick_full", 0.5,
            "Share of an account's interactions with partners that are bunched at which "
            "the quickness evidence is full.", "our choice"),
    # -- score/: relevant influence -------------------------------------------
    Setting("score_gate_mid", 0.5,
            "Authenticity at which an account's vote (as a follower or interactor) counts "
            "half, in the smooth authenticity gate of detect/weights.py.",
            "our choice: the ensemble's own threshold (0.5)"),
    Setting("score_gate_width", 0.06,
            "Width of that logistic gate: authenticity 0.3 counts 3%, 0.7 counts 97%.",
            "our choice: flagged accounts should count next to nothing"),
    Setting("score_inactive_weight", 0.3,
            "Weight of an authentic but inactive account (no post in inactive_days) as an "
            "audience member.", "our choice: it may still read, but rarely"),
    Setting("pagerank_damping", 0.85,
            "Probability that a PageRank walker follows an edge rather than teleporting.",
            "Page et al. 1999; Brin and Page 1998 (0.85)"),
    Setting("pagerank_tol", 1e-9, "PageRank stops when the L1 change of a step is below this.",
            "our choice: far below any rank difference we report"),
    Setting("pagerank_max_iter", 200, "Most PageRank steps.",
            "our choice: 0.85**200 < 1e-14, so the tolerance ends it first"),
    Setting("trust_seed_min_mutual", 10,
            "Mutual follows an established person (a trust seed) needs.",
            "our choice, as sybilrank_fallback_min_mutual: a circle of mutual friends"),
    Setting("trust_seed_min_followback", 0.5,
            "Share of the accounts a trust seed follows that follow it back.",
            "our choice: person-like reciprocity; it reads the account's own follows, which "
            "camouflage cannot change"),
    Setting("trust_seed_min_gate", 0.9,
            "Authenticity gate a trust seed must pass.", "our choice: only clearly real"),
    Setting("trust_tau", 0.1,
            "Trust, as a share of the uniform mass 1/n, at which an account's vote counts "
            "63% (the trust gate 1 - exp(-trust*n/tau)).",
            "our measurement on SNAP ego-Twitter: 0.1 keeps Spearman(TrueRank, PageRank) "
            "above 0.9 while bought followers move customers by under 1 point"),
    Setting("interaction_weight_like", 0.2,
            "Weight of one like as a vote, in engagement influence and TrueRank.",
            "our choice: a like costs less effort than a reply or repost (Cha et al. 2010 "
            "count reposts and mentions)"),
    Setting("interaction_weight_other", 1.0,
            "Weight of one reply, repost, mention or quote as a vote.",
            "Cha et al. 2010: retweets and mentions measure influence"),
    Setting("truerank_interaction_scale", 0.5,
            "Weight of the interaction graph in TrueRank relative to follows (one "
            "interaction of weight 1 counts as half a follow).",
            "our choice: follows are the standing audience, interactions the active one"),
    Setting("truerank_vote_prior", 5.0,
            "Pseudo-follows added to each account's out-weight in TrueRank: an account "
            "that follows d accounts passes d / (d + this) of its vote along its follows "
            "and the rest through the prior (UserMass), so one follow of a big account, "
            "or a mutual pair, cannot carry its whole mass.",
            "additive (Dirichlet) smoothing of each account's vote towards the prior; "
            "measured on SNAP ego-Twitter: 5 is the smallest of 1, 2, 3, 5 that keeps every "
            "account with under 20 followers out of the top 100 (4-follower accounts "
            "reached #2 through one follow of a 3,383-follower account), Spearman with "
            "PageRank 0.919 -> 0.900 (see score/README.md)"),
    # -- discover/ find, overlap, plan ---------------------------------------
    Setting("discover_find_top", 20, "Creators `find` returns by default.",
            "our choice: one screen"),
    Setting("discover_lookalike_credit", 0.5,
            "Most relevance a non-member of a target audience can earn by following what "
            "the audience characteristically follows (members count 1).",
            "our choice: a lookalike counts at most half a member"),
    Setting("discover_lookalike_min_members", 3.0,
            "Authentic-weighted members of the target audience that must follow an account "
            "before it counts as one the audience characteristically follows.",
            "our choice: fewer is anecdote"),
    Setting("discover_lookalike_min_lift", 2.0,
            "How many times more often the target audience must follow an account than the "
            "whole authentic population does, for it to count as characteristic.",
            "our choice: twice the base rate (lift, as in association rules)"),
    Setting("discover_lookalike_min_follows", 10,
            "Lookalike credit is credit * shared / max(follows, this): an account that "
            "follows little earns little from one shared follow.",
            "our choice: about the follows of a light user"),
    Setting("discover_overlap_exact_max", 2_000_000,
            "`overlap` merges the audiences exactly up to this many followers in all, and "
            "uses MinHash sketches above it.",
            "measured (3M random accounts): the merge of 2M entries in 5 rows takes 50 ms, "
            "as long as the sketches; at 5M in 10 rows 140 ms against 90 ms"),
    Setting("discover_minhash_k", 1024,
            "Bottom-k MinHash sketch size: standard error of a Jaccard estimate at most "
            "1/(2 sqrt k), 0.016 for 1024.",
            "Cohen & Kaplan, PODC 2007 (bottom-k); our choice of k"),
    Setting("discover_minhash_seed", 20150531,
            "Salt of the MinHash hash: fixed, so sketches are reproducible and comparable.",
            "our choice (any fixed value)"),
    Setting("discover_plan_enum_size", 3,
            "Partial enumeration of `plan`: every affordable choice of up to this many "
            "creators is completed greedily; 3 gives the (1 - 1/e) guarantee.",
            "Khuller, Moss & Naor, IPL 1999; Sviridenko, Oper. Res. Lett. 2004"),
    Setting("discover_plan_enum_max_work", 300_000_000,
            "`plan --mode auto` enumerates when (choices to complete) x (follower entries of "
            "the candidates) is at most this, and runs the lazy greedy otherwise.",
            "our choice: a few seconds of enumeration on one core"),
    Setting("discover_imm_eps", 0.1,
            "IMM's approximation slack: with high probability the influence plan is within "
            "(1 - 1/e - eps) of the best for its size.",
            "Tang, Shi & Xiao, SIGMOD 2015 (their experiments use 0.1 and 0.5)"),
    Setting("discover_imm_max_sets", 2_000_000,
            "Most reverse-reachable sets IMM draws; the plan says when this bound it.",
            "our choice: a few hundred MB and seconds on SNAP-sized graphs"),
    # -- score/topics.py, score/communities.py ---------------------------------
    Setting("topic_stop_words",
            "a an and are as at be been but by for from has have he her his i if in into "
            "is it its me my no not of on or our she so than that the their them then "
            "there these they this to too us was we were what when where which who will "
            "with you your im rt via amp http https www com",
            "Words (space-separated) never used as topic terms.",
            "our choice: the most frequent English function words (a short form of common "
            "stop-word lists) plus Twitter noise (rt, via, amp, link parts)"),
    Setting("topic_min_term_length", 2, "Shortest term, in characters, after normalising.",
            "our choice: one-letter tokens carry no topic"),
    Setting("topic_min_df", 2, "A term must be used by at least this many accounts.",
            "our choice: a term of one account cannot describe a topic (sklearn min_df)"),
    Setting("topic_max_df", 0.25,
            "A term used by more than this share of the accounts with terms is too common "
            "to be a topic.", "our choice (sklearn max_df); measured: simulated filler "
            "words reach 13%, topic hashtags 5%, SNAP's most common tag (#ff) 12%"),
    Setting("topic_max_producers", 20_000,
            "Most producers (most-followed accounts) that SimClusters clusters.",
            "Satuluri et al. 2020 cluster the top 20M of ~1B accounts; here a cap that "
            "keeps the similarity step near a second"),
    Setting("topic_min_producer_followers", 10.0,
            "Smallest authentic follower weight of a producer.",
            "our choice: fewer followers give too noisy a follower set to compare"),
    Setting("topic_sim_neighbors", 40, "Most similar producers kept per producer.",
            "our choice: the paper keeps the top neighbours of each producer; 40 keeps the "
            "similarity graph sparse and connected within communities"),
    Setting("topic_sim_min", 0.05, "Smallest follower cosine kept between two producers.",
            "our choice: below it, pairs share a few followers by chance; measured: 0.02 "
            "and 0.05 give the same communities on the simulator (NMI 0.997) and SNAP "
            "(80% of producer follows inside), 0.05 is 15% faster"),
    Setting("topic_max_follower_producers", 1000,
            "Followers that follow more producers than this are left out of the cosine.",
            "our choice: mass followers (Twitter's 2,000-follow limit, halved) say little "
            "about what producers share, and cost the square of their degree"),
    Setting("topic_resolution", 1.0, "Louvain modularity resolution of KnownFor.",
            "Blondel et al. 2008 (standard modularity)"),
    Setting("topic_min_community", 5,
            "Smallest KnownFor community, in producers; smaller ones are dropped.",
            "our choice: a handful of producers makes a readable community"),
    Setting("topic_min_interest", 0.02,
            "InterestedIn shares below this are dropped before renormalising.",
            "Satuluri et al. 2020 keep only the larger InterestedIn entries; 2% is our cut"),
    Setting("topic_seed", 0, "Seed of the Louvain visiting order.", "our choice"),
    Setting("topic_top_terms", 8, "Top terms that name a community.", "our choice"),
    Setting("topic_label_min_score", 0.05,
            "A community's name keeps only terms scoring at least this share of its best "
            "term's score.", "our choice: on the simulator it drops cut-off words that "
            "follow the planted interest words and hashtag"),
    Setting("topic_term_scale_quantile", 0.9,
            "An account's query-term weight is divided by this quantile of the nonzero "
            "weights and capped at 1.", "our choice: the top tenth of users of a term "
            "count as fully on topic"),
    # -- evaluate/attacks.py, evaluate/manipulation.py ---------------------
    Setting("manip_customers", 100,
            "Accounts that attack the rankings in `eval manipulation` (the customers).",
            "the protocol: take 100 accounts from the middle of the ranking"),
    Setting("manip_band_low", 45.0,
            "Customers are drawn among accounts whose follower-count rank lies at or above "
            "this percentile (and below manip_band_high).",
            "our choice for the protocol's 'middle of the ranking': a 10-point band around "
            "the median"),
    Setting("manip_band_high", 55.0,
            "Upper percentile of the band customers are drawn from.",
            "our choice, with manip_band_low"),
    Setting("manip_budgets", "100,1000,10000",
            "Followers bought per customer, one attacked graph per budget (comma-separated).",
            "the protocol: B in {100, 1,000, 10,000}"),
    Setting("manip_camouflage", 20,
            "Real accounts each bought follower also follows, drawn uniformly (camouflage).",
            "the protocol: new accounts that follow the customer and 20 random accounts"),
    Setting("manip_purchase_min_days", 7.0,
            "Earliest a purchase is delivered, in days before the end of the data (where "
            "follows have times).",
            "our choice: the growth detector sees at least one snapshot after it"),
    Setting("manip_purchase_max_days", 60.0,
            "Latest a purchase is delivered, in days before the end of the data.",
            "our choice: within the simulator's 182-day snapshot span"),
    Setting("manip_burst_hours", 24.0,
            "Hours over which one customer's bought follows arrive.",
            "our choice: one delivery, like the simulator's sellers' bursts"),
    Setting("manip_fake_age_days", 7.0,
            "Bought followers are created at most this many days before they follow.",
            "our choice: sellers make accounts in batches shortly before delivery"),
    Setting("manip_followback_targets", 5000,
            "Accounts each customer follows in a follow-back campaign.",
            "the protocol: each customer follows 5,000 accounts"),
    Setting("manip_followback_share", 0.3,
            "Share of a follow-back campaign's targets that follow back.",
            "the protocol: 30% follow back"),
    Setting("manip_followback_delay_hours", 12.0,
            "Mean hours before a target follows back (exponential).",
            "the simulator's farm follow-back delay (12 hours)"),
    Setting("manip_campaign_days", 1.0,
            "Days over which a customer makes its campaign's follows.",
            "the protocol: created within one day"),
    Setting("manip_unfollow_min_days", 2.0,
            "Fewest days after a campaign follow before the customer undoes it.",
            "the protocol: removed a few days later; the simulator's farms wait 2-10"),
    Setting("manip_unfollow_max_days", 5.0,
            "Most days after a campaign follow before the customer undoes it.",
            "the protocol: removed a few days later"),
    Setting("manip_adaptive_budget", 1000,
            "Fakes per customer of the adaptive attacker.",
            "the protocol: e.g. B = 1,000 per customer"),
    Setting("manip_adaptive_fake_min", 10,
            "Fewest other fakes each adaptive fake follows (the sybil region).",
            "the protocol: each fake follows ~10-30 other fakes"),
    Setting("manip_adaptive_fake_max", 30,
            "Most other fakes each adaptive fake follows.",
            "the protocol: each fake follows ~10-30 other fakes"),
    Setting("manip_adaptive_real_follows", 20,
            "Real accounts each adaptive fake follows, drawn in proportion to followers + 1.",
            "the protocol: ~20 real accounts chosen by popularity"),
    Setting("manip_adaptive_min_age_days", 365.0,
            "Adaptive fakes copy profiles of real accounts at least this old.",
            "the protocol: aged profiles, created years ago"),
    Setting("manip_adaptive_span_days", 180.0,
            "Days over which the adaptive attacker drip-feeds its follows.",
            "our choice: no burst within the simulator's 182-day snapshot span"),
    Setting("manip_reference_time", 1341100800,
            "End of the data (epoch seconds) for injected follow and unfollow times when "
            "the data has no times at all (SNAP).",
            "2012-07-01, when SNAP ego-Twitter was published (McAuley and Leskovec, NIPS "
            "2012); only differences of times matter"),
    Setting("manip_top_percent", 1.0,
            "The 'top' share reported by `eval manipulation`: customers ranked above all "
            "but this percentage of the original accounts.",
            "the protocol: the share of customers in the top 1%"),
    Setting("manip_sim_accounts", 20000,
            "Accounts of the simulated platform `eval manipulation --graph sim` attacks.",
            "the protocol: e.g. 20,000 accounts"),
    # -- report/influence.py, cli/demo.py: the influence report ---------------
    Setting("report_influence_top", 25,
            "Accounts listed at the top of each ranking table of the influence report.",
            "the design: a top-25 table fits one screen"),
    Setting("report_influence_window", 1.0,
            "Accounts that bought followers and rank within this top-% by followers (or by "
            "TrueRank) are listed in the ranking tables too, below the top accounts.",
            "our choice, as manip_top_percent: the top 1% is where influencer search looks"),
    Setting("report_bought_threshold", 0.5,
            "Without ground-truth labels, an account counts as having bought followers "
            "when the ensemble's bought_ evidence is at least this.",
            "the design: bought_ >= 0.5, the midpoint of a 0..1 score"),
    Setting("report_scatter_points", 3000,
            "At most this many accounts (besides those that bought followers, always all "
            "shown) in the followers-vs-TrueRank chart.",
            "our choice: a few thousand points draw quickly in any browser without WebGL"),
    Setting("report_fall_rows", 20,
            "Rows of the table 'accounts that bought followers: place by followers -> "
            "place by TrueRank' (the medians use all of them).",
            "our choice: one screen"),
    Setting("report_sample_seed", 0, "Seed of the chart's sample of accounts.",
            "our choice: a fixed seed makes the page reproducible"),
    Setting("demo_creators", 8, "Creators the demo finds for its sample target, compares "
            "and plans a budget over.", "the design: the top ~8 creators"),
    Setting("demo_cost_per_follower", 0.01,
            "The demo's sample price of a creator's post per reported follower (currency "
            "units): cost = this x the platform's follower count.",
            "the often-quoted rule of thumb of about 10 per 1,000 followers per sponsored "
            "post; influencers are priced by their reported follower count"),
    Setting("demo_budget_share", 0.4,
            "The demo's sample budget as a share of the summed cost of its candidates.",
            "our choice: enough for a few creators, too little for all, so the plan must "
            "choose"),
    # -- discover/suggest.py, kernels/ppr.py: who to follow --------------------
    Setting("suggest_top", 20, "Suggestions per user.",
            "the protocol: recall@20 and nDCG@20 are the measures"),
    Setting("suggest_ppr_alpha", 0.5,
            "Stopping probability per step of the personalised PageRank walk of suggest.",
            "our measurement on SNAP ego-Twitter training users (seed 1): recall@20 of PPR "
            "alone 0.55 at 0.5, 0.52 at 0.3, 0.48 at 0.15; follow graphs reward short walks"),
    Setting("suggest_ppr_eps", 1e-4,
            "Push threshold of that walk (residual per out-edge left unpushed); at most "
            "1 / (alpha · eps) pushes per user.",
            "our choice: at most 20,000 pushes per user keeps a query near a millisecond"),
    Setting("suggest_baseline_ppr_alpha", 0.15,
            "Stopping probability of the plain personalised PageRank baseline of "
            "`eval suggest`.", "Page et al. 1999: damping 0.85"),
    Setting("suggest_baseline_ppr_eps", 1e-6,
            "Push threshold of the plain personalised PageRank baseline.",
            "our choice: ranks its top 20 as exact power iteration does"),
    Setting("suggest_learn", True,
            "Learn the combination of signals on the graph itself: hide some follows of "
            "some users, and fit a logistic model that finds them again.",
            "our choice: Twitter's WTF (Gupta et al. 2013) also tunes on held-out follows"),
    Setting("suggest_train_users", 1000,
            "Users whose follows are held out to learn the combination.",
            "our measurement on SNAP: 1,000 users give about 1.5M candidate rows"),
    Setting("suggest_train_min_follows", 20,
            "Follows a user needs to be drawn for training or evaluation.",
            "the protocol: the evaluation draws users with at least 20 follows"),
    Setting("suggest_hide_share", 0.2,
            "Share of each drawn user's follows held out (rounded, at least one).",
            "the protocol: hide 20% of each user's follows"),
    Setting("suggest_train_seed", 1,
            "Seed of the training draw (the evaluation draws with seed 0).",
            "the protocol: weights fitted on users drawn with another seed"),
    Setting("suggest_train_negative_share", 0.1,
            "Share of the non-followed candidates kept for training (all held-out follows "
            "are kept).",
            "our measurement on SNAP: 10% loses under 0.005 recall@20 and fits 3x faster"),
    Setting("suggest_train_c", 1.0,
            "Inverse L2 regularisation of the logistic model.", "scikit-learn default"),
    Setting("suggest_train_min_positives", 50,
            "Held-out follows that must be found among candidates to learn; below it the "
            "fixed weights are used.", "our choice: too few to fit 54 coefficients"),
    Setting("suggest_quadratic", True,
            "Learn pairwise products of the features too (a quadratic form).",
            "our measurement on SNAP: +0.02 recall@20 over the linear model"),
    Setting("suggest_fill", 1000,
            "Popular authentic accounts kept to fill in for users with too few candidates.",
            "our choice"),
    Setting("suggest_w_aa", 3.7,
            "Fixed weight of log(1 + Adamic–Adar friends-of-friends) when nothing is learned.",
            "logistic fit on SNAP ego-Twitter training users (seed 1, disjoint from the "
            "evaluation's), rounded; recall@20 0.665 with these five weights"),
    Setting("suggest_w_recip", 3.1,
            "Fixed weight of 'follows the user' when nothing is learned.",
            "the same fit"),
    Setting("suggest_w_ppr", 0.6,
            "Fixed weight of log(1 + ppr / eps) when nothing is learned.", "the same fit"),
    Setting("suggest_w_popularity", -0.2,
            "Fixed weight of log(1 + authentic followers): popular accounts are found "
            "anyway, a suggestion should find the relevant ones.", "the same fit"),
    Setting("suggest_w_topic", 2.0,
            "Fixed weight of the topic cosine when topic vectors are given.",
            "our choice: a perfect topic match counts like a few shared friends"),
    Setting("suggest_eval_users", 1000, "Users drawn by `eval suggest`.",
            "the protocol: 1,000 users with at least 20 follows, seed 0"),
    # -- api ---------------------------------------------------------------------
    Setting("api_max_page", 1000, "Largest page (limit, top) one API request may ask for.",
            "our choice: a page of 1,000 rows stays under a megabyte of JSON"),
    Setting("api_max_upload_mb", 512.0, "Largest upload the API accepts, in MiB (413 above).",
            "our choice: a large CSV export; bigger loads go through `trueclout ingest`"),
    Setting("api_rate_per_s", 50.0, "Requests per second each API key may sustain "
            "(token bucket refill rate).",
            "our choice: well above a dashboard user, below a scraper"),
    Setting("api_rate_burst", 100.0, "Requests one API key may send at once (token bucket "
            "size).", "our choice: two seconds of the sustained rate"),
    Setting("api_job_workers", 2, "Threads that run background jobs (ingest, detection).",
            "our choice: one long job does not block a second; the store has one writer"),
    Setting("api_audit_cache", 1024, "Audits the service keeps per score context (oldest "
            "dropped first).", "our choice: a dashboard session looks at a few hundred "
            "accounts; one audit is a few kB"),
    Setting("api_key_cache_s", 60.0, "Seconds the server holds the API key table before "
            "reading it again (a key revoked behind the server's back stops working within "
            "this time; one revoked through the API stops at once).",
            "our choice: reading the table costs a query; once a minute is free"),
    # -- web ---------------------------------------------------------------------
    Setting("web_search_limit", 20, "Accounts the web app's search page lists.",
            "our choice: one screen of results"),
    Setting("web_discover_top", 20, "Creators the web app's discover page ranks by default.",
            "our choice: one screen; the form asks for more"),
    Setting("web_discover_preselect", 3, "Creators ticked on the discover page, ready to "
            "compare or plan.", "our choice: the smallest set with an interesting overlap"),
    Setting("web_plan_creators", 8, "Candidates the plan page starts from when none are given "
            "(the top unflagged accounts by TrueRank).", "the demo's 8 (demo_creators)"),
    Setting("web_static_max_age", 31_536_000, "Cache lifetime (seconds) of the web app's CSS "
            "and Plotly JavaScript; their URLs carry a content hash.",
            "one year, the usual lifetime of fingerprinted assets (RFC 9111 max-age)"),
    Setting("web_upload_poll_ms", 500, "How often the upload page asks the job endpoint for "
            "progress, in milliseconds.", "our choice: smooth enough, two requests a second"),
    # -- api: keys, jobs and uploads ---------------------------------------------------------
    Setting("api_result_cap", 1000, "Most creators a find request, or suggestions a "
            "suggestions request, ranks; its pages slice that list (its total is at most "
            "this).", "our choice: the largest page (api_max_page)"),
    Setting("api_sim_min_accounts", 100, "Fewest accounts a simulation job may ask for.",
            "our choice: the smallest platform on which the planted attacks show"),
    Setting("api_sim_max_accounts", 200_000, "Most accounts a simulation job may ask for.",
            "our choice: about a minute of simulation and ingest on 2 cores; bigger "
            "platforms go through `trueclout simulate`"),
    Setting("api_job_progress_s", 0.25, "Least seconds between two progress writes of one "
            "job to the store (a new stage is always written).",
            "our choice: four updates a second, below the upload page's polling"),
    Setting("web_login_max_age_s", 28_800, "Lifetime (seconds) of the web login cookie that "
            "holds a read key when the server does not listen on loopback.",
            "our choice: a working day"),
    # -- api: under load ---------------------------------------------------------------
    Setting("api_token_check_s", 1.0, "Most seconds the API trusts its cached score context "
            "without reading the store's ingest token again (its own jobs invalidate it at "
            "once; this is the safety net for writes it did not make).",
            "our choice: the token query costs about 0.5 ms; once a second is free"),
    Setting("api_ranking_cache", 8, "Rankings (by, topic) the API keeps serialised per score "
            "context, about 400 bytes an account each (oldest dropped first).",
            "our choice: the five global rankings and a few topics; 8 rankings of the "
            "50,000-account demo are about 170 MB"),
    Setting("api_ranking_chunk", 256, "Ranking rows the API serialises to JSON at a time, "
            "when a page first needs them.", "our choice: about 5 ms of work; a page of 50 "
            "rows touches one or two chunks"),
    # -- graph/rmat --------------------------------------------------------------
    Setting("rmat_a", 0.57, "R-MAT probability of the top-left quadrant at each level.",
            "Chakrabarti et al. 2004; the Graph500 generator's a = 0.57"),
    Setting("rmat_b", 0.19, "R-MAT probability of the top-right quadrant at each level.",
            "Graph500: b = c = 0.19, d = 1 - a - b - c = 0.05"),
    Setting("rmat_c", 0.19, "R-MAT probability of the bottom-left quadrant at each level.",
            "Graph500: b = c = 0.19, d = 1 - a - b - c = 0.05"),
    Setting("rmat_batch", 1 << 22, "Most R-MAT edges generated per batch (8 bytes each).",
            "our choice: 32 MB per batch, large enough to keep the threads busy"),
    # -- spark/ the Spark backend -------------------------------------------------
    Setting("spark_master", "local[2]", "Spark master URL of the Spark backend (yarn, "
            "k8s://..., spark://host:7077 on a cluster; spark-submit's --master wins).",
            "our choice: the 2 cores of the development machine, as in the parity tests"),
    Setting("spark_app_name", "trueclout", "Spark application name.", "our choice"),
    Setting("spark_driver_memory", "2g", "Spark driver memory (spark.driver.memory).",
            "our choice: the 6,000-account parity tests; the 50,000-account demo was "
            "measured with 3g (3.2 GB JVM peak), 500,000 accounts with 6g"),
    Setting("spark_shuffle_partitions", 4, "spark.sql.shuffle.partitions (and default "
            "parallelism) of the Spark backend.",
            "our choice: 2 per local core; raise to 2-3 per cluster core"),
    Setting("spark_conf", "", "Extra Spark options, comma-separated key=value (for example "
            "spark.hadoop.fs.s3a.endpoint=...).", "our choice"),
    # -- graph/outofcore ---------------------------------------------------------
    Setting("outofcore_memory_gb", 8.0, "Memory budget in GB of the out-of-core CSR build "
            "(per-vertex arrays, one batch and one window of edges).",
            "our choice: a third of a 24 GB machine holds the whole 1.47B-edge window "
            "(5.9 GB) of Twitter-2010 scale, so each pass is one window"),
    Setting("outofcore_workdir", "", "Folder for the out-of-core build's files (a fresh "
            "sub-folder, deleted afterwards); empty means the system temp folder.",
            "the design: the work folder defaults under the system temp dir"),
    Setting("outofcore_chunk", 1 << 24, "CSR entries read at a time when the out-of-core "
            "build transposes a file (4 bytes each).",
            "our choice: 64 MB, large enough for sequential reads, small next to a window"),
    # -- stream/ live Jetstream and incremental re-scoring ----------------------
    Setting("stream_jetstream_url", "wss://jetstream2.us-east.bsky.network/subscribe",
            "Bluesky Jetstream websocket endpoint read by `trueclout watch bluesky`.",
            "Bluesky's public Jetstream instances (github.com/bluesky-social/jetstream)"),
    Setting("stream_firehose_url", "wss://bsky.network",
            "Relay (or PDS) whose com.atproto.sync.subscribeRepos firehose `trueclout watch "
            "bluesky --firehose` reads.",
            "Bluesky's public relay (the AT Protocol sync specification)"),
    Setting("stream_collections",
            "app.bsky.graph.follow,app.bsky.feed.like,app.bsky.feed.repost",
            "Collections the stream asks Jetstream for (wantedCollections), comma-separated.",
            "the design: follows, unfollows, likes and reposts"),
    Setting("stream_batch_events", 20000,
            "Events gathered before one bulk apply (one transaction) to the store.",
            "our measurement: a batch this size costs a few fixed-cost statements and "
            "keeps the apply rate above 20,000 events/s on 2 cores"),
    Setting("stream_batch_seconds", 2.0,
            "Longest wait before a partial batch is applied anyway.",
            "our choice: a quiet stream still lands within seconds"),
    Setting("stream_resume_back_s", 5.0,
            "On restart the stream resumes this many seconds before the saved cursor; the "
            "replayed events are applied idempotently.",
            "Jetstream docs: rewind the cursor a few seconds for gapless playback"),
    Setting("stream_rescore_events", 10000,
            "Applied events after which the scores are updated incrementally.",
            "the design: re-score after N events (10,000 new follows is the target case)"),
    Setting("stream_rescore_seconds", 60.0,
            "Seconds after which the scores are updated incrementally even with fewer "
            "events.", "our choice: a minute of staleness"),
    Setting("stream_push_tol", 1e-6,
            "Bound on the largest absolute error of each incrementally updated "
            "PageRank-family score (the forward push stops when the residual guarantees "
            "it).", "the design: the same scores as a full recompute to 1e-6"),
    Setting("stream_rowsum_residual", 0.05,
            "Largest residual, as a share of its teleport, left in the solution that "
            "bounds the row sums of (I - A)^-1 in the incremental push's error bound.",
            "our choice: the bound then overstates those row sums by at most 5.3%, and "
            "that solution is pushed only when a change leaves more"),
    Setting("stream_push_local", 1e-3,
            "When positive, the incremental push stops once every account's residual is "
            "at most this share of the mean score, and reports the error bounds reached "
            "instead of enforcing stream_push_tol; 0 enforces stream_push_tol.",
            "Zhang, Lofgren and Goel, KDD 2016 (a per-vertex residual threshold); 1e-3 "
            "measured on the 50M-follow simulated platform: largest error 1.8e-8 after "
            "10,000 new follows, 3.4% of the time of a full recompute of the scores"),
    Setting("stream_push_local_cap", 1e-9,
            "Largest residual the local push leaves at an account, as a share of the total "
            "score (the threshold is the smaller of this and stream_push_local times the "
            "mean score): an absolute cap, since the 1e-6 target is absolute and a graph "
            "with fewer accounts has larger scores.",
            "measured (benchmarks/bench_stream.py, 10,000 new follows): SNAP ego-Twitter "
            "(81k accounts) had a largest error of 1.2e-6 with the mean-relative threshold "
            "alone, 1e-7 with this cap; the cap equals that threshold at 1M accounts"),
    Setting("stream_recompute_share", 0.01,
            "A stream batch that changes more than this share of the follows is scored by "
            "solving the scores again (over the merged graph) instead of a local push.",
            "measured (benchmarks/bench_stream.py, 10,000 new follows): by push, 0.018% of the "
            "50M-follow platform's follows took 3.4% of a recompute of the scores, 0.57% of "
            "SNAP ego-Twitter's 0.8 times one, 3.4% of a 300k-follow platform's 5 times one; "
            "solving again costs about 2 recomputes (the row-sum solution too)"),
    Setting("stream_detection", True,
            "Update the detection of the accounts a stream batch touches (the per-account "
            "part of the ensemble: trueclout.detect.incremental) and carry their new "
            "weights into TrueRank and authentic reach.",
            "the design: the stream updates detection and scores incrementally"),
    Setting("stream_overlay_share", 0.02,
            "Changed edges, as a share of all edges, above which the delta overlay is "
            "merged into the CSR.",
            "our choice: merging costs one O(m) pass, so do it rarely"),
    # -- crawl/ Bluesky and Mastodon crawls -----------------------------------------
    Setting("bluesky_appview", "https://public.api.bsky.app",
            "Bluesky AppView host for the XRPC read calls (no login needed).",
            "Bluesky docs: the public AppView endpoint"),
    Setting("bluesky_plc_directory", "https://plc.directory",
            "PLC directory that resolves a did:plc to its DID document (and so its PDS).",
            "atproto DID PLC spec: the default directory"),
    Setting("bluesky_page_limit", 100, "Items per page of getFollowers, getFollows, "
            "getAuthorFeed, getLikes, getRepostedBy and listRecords.",
            "Bluesky lexicons: limit maximum 100"),
    Setting("bluesky_profiles_batch", 25, "Actors per app.bsky.actor.getProfiles call.",
            "Bluesky lexicon app.bsky.actor.getProfiles: actors maxLength 25"),
    Setting("mastodon_page_limit", 80, "Accounts per page of followers, following, "
            "favourited_by and reblogged_by.", "Mastodon API docs: limit max 80"),
    Setting("mastodon_statuses_limit", 40, "Statuses per page of an account's statuses.",
            "Mastodon API docs: /api/v1/accounts/:id/statuses limit max 40"),
    Setting("crawl_max_retries", 5, "Retries of one request (after the first try) on 429, "
            "5xx, timeouts and connection errors.",
            "our choice: with a 1 s base and doubling, about a minute of trying"),
    Setting("crawl_backoff_base_s", 1.0, "First backoff delay in seconds; doubles per retry.",
            "our choice, as in the AWS architecture blog 'Exponential Backoff and Jitter'"),
    Setting("crawl_backoff_cap_s", 60.0, "Longest backoff delay in seconds.",
            "our choice: a minute, the length of most rate-limit windows"),
    Setting("crawl_max_wait_s", 900.0, "Longest rate-limit wait honoured; a longer one stops "
            "the crawl early (resumable with --resume).",
            "our choice: Mastodon's and Bluesky's windows are 5 minutes; 15 minutes is 3"),
    Setting("crawl_timeout_s", 30.0, "HTTP timeout of one request in seconds.",
            "our choice"),
    Setting("crawl_keep_raw", True, "Keep the raw JSON of every crawled item in raw_records.",
            "the design: parse loosely, keep the raw JSON"),
    # -- privacy.py, store/forget.py, cli/privacy.py ---------------------------
    Setting("pseudonym_key_file", "",
            "File holding the secret pseudonym key (TRUECLOUT_PSEUDONYM_KEY_FILE); empty "
            "means pseudonym.key in the user's config folder (~/.config/trueclout).",
            "the design: the key lives outside the store"),
    Setting("pseudonym_key_bytes", 32, "Random bytes of a new pseudonym key.",
            "RFC 2104: an HMAC key as long as the hash output (SHA-256: 32 bytes)"),
    Setting("pseudonym_bits", 80, "Bits of the HMAC-SHA256 kept in a pseudonym (a multiple "
            "of 40 gives base32 without padding).",
            "our choice: 80 bits make a collision unlikely below about 10^11 accounts "
            "(birthday bound 2^40) and keep pseudonyms at 18 characters"),
    Setting("pseudonym_text", "drop", "Post text in a pseudonymised store: drop (null), or "
            "scrub (mentions pseudonymised, URLs removed; the words stay searchable on the "
            "platform).",
            "our choice: text can be searched for on the platform, which re-identifies its "
            "author, so the safe default drops it"),
    # -- stream/jetstream.py, cli/watch.py: reconnects and saved scores ---------
    Setting("stream_reconnect_base_s", 1.0,
            "First wait in seconds before reconnecting to Jetstream after a drop; doubles "
            "with each failed reconnect in a row.",
            "our choice, as in the AWS architecture blog 'Exponential Backoff and Jitter' "
            "(the same scheme as crawl_backoff_base_s)"),
    Setting("stream_reconnect_cap_s", 60.0,
            "Longest wait in seconds between reconnects to Jetstream.",
            "our choice: a minute; Jetstream replays from the cursor, so waiting loses "
            "nothing but freshness"),
    Setting("stream_open_timeout_s", 10.0,
            "Seconds allowed for the websocket opening handshake with Jetstream.",
            "websockets library default (open_timeout=10)"),
    Setting("stream_full_every_s", 86400.0,
            "With `watch --rescore`, fit detection and the scores again from the store "
            "(the full run) once this many seconds have passed since the last fit; 0 "
            "never.",
            "our choice: daily, as the batch ranking runs; on the 50M-follow platform a "
            "fit takes about 70 s (detection 55 s, the starting scores 15 s)"),
    Setting("stream_save_every_s", 300.0,
            "With `watch --rescore`, save the current scores (after a re-score) once this "
            "many seconds have passed since the last save, so a killed watch loses at most "
            "this much; 0 saves after every re-score.",
            "our choice: five minutes of scores at risk, a few saves an hour"),
    # -- api and web: limits against abuse --------------------------------------------------
    Setting("api_key_reload_s", 1.0,
            "Least seconds between two reads of the API key table caused by a request "
            "naming a prefix the server does not hold (a key made since the last read).",
            "our choice: a key made while the server runs works within a second, and "
            "requests with made-up prefixes cost at most one query a second"),
    Setting("api_auth_fail_burst", 10.0,
            "Failed key checks one client address, or one key prefix, may make at once "
            "before further attempts answer 429 (token bucket size).",
            "our choice: a person who mistypes a key fails a few times; OWASP's "
            "authentication cheat sheet asks for a limit on failed attempts"),
    Setting("api_auth_fail_per_s", 0.2,
            "Failed key checks per second one client address, or one key prefix, may "
            "sustain (token bucket refill rate).",
            "our choice: one failure every 5 seconds; a 256-bit key cannot be guessed at "
            "any rate, so the limit only keeps noise and load down"),
    Setting("api_rate_max_clients", 100_000,
            "Buckets a rate limiter keeps (keys, client addresses, prefixes) before full "
            "ones are dropped, so changing addresses cannot grow its memory without end.",
            "our choice: about 10 MB of buckets"),
    Setting("api_max_body_kb", 1024.0,
            "Largest request body, in KiB, of every route but uploads (413 above; checked "
            "against Content-Length before the body is read, then as it streams).",
            "our choice: a plan with api_max_costs creators is about 250 KiB of JSON"),
    Setting("api_max_text", 200,
            "Longest text (account, topic, query) a request may give, in characters.",
            "our choice: handles are at most 15 (Twitter) to 253 (Bluesky domain) "
            "characters; topics are a few words"),
    Setting("api_max_costs", 1000,
            "Most creators a plan request may price (entries of costs).",
            "our choice: the largest page (api_max_page)"),
    Setting("api_max_offset", 2_147_483_647,
            "Largest offset a list request may ask for (422 above).",
            "vertex ids are int32, so no list has more rows than 2^31 - 1"),
    Setting("api_error_excerpt", 200,
            "Most characters of an error message the API answers (a longer one is cut and "
            "says so), so an error never echoes a large input back.",
            "our choice: room for a message and a short excerpt of the value"),
    Setting("api_job_queue", 4,
            "Jobs (ingest, simulation, detection) queued or running at once; a job asked "
            "for beyond it answers 429 with Retry-After.",
            "our choice: two running (api_job_workers) and two waiting; each holds a "
            "score context of its own while it refits"),
    Setting("api_job_retry_s", 10,
            "Retry-After, in seconds, of a job refused because the queue is full.",
            "our choice: about the shortest ingest job"),
    Setting("api_shutdown_grace_s", 5.0,
            "Seconds `serve` waits, on SIGTERM or Ctrl+C, for running jobs to stop at "
            "their next progress report before it exits anyway (the jobs are marked "
            "interrupted and their writes rolled back).",
            "our choice: well under the 10 s a container runtime waits before SIGKILL "
            "(docker stop's default)"),
    Setting("web_csrf_max_age_s", 28_800,
            "Lifetime (seconds) of the cookie holding the sign-in forms' CSRF token.",
            "web_login_max_age_s: a working day"),
    # -- ingest/validate: plausible values --------------------------------------------------
    Setting("founded_twitter", "2006-03-21",
            "Earliest plausible date (UTC) of a Twitter row: dates before it are rejected.",
            "Twitter's founding: @jack's first tweet and account, 21 March 2006"),
    Setting("founded_mastodon", "2016-03-16",
            "Earliest plausible date (UTC) of a Mastodon row.",
            "the first account of mastodon.social (Gargron's) was created on 16 March 2016"),
    Setting("founded_bluesky", "2022-01-01",
            "Earliest plausible date (UTC) of a Bluesky row.",
            "our choice: the AT Protocol network and its first accounts date from late 2022 "
            "(the app's invite-only beta opened in February 2023); the year's start leaves "
            "a margin"),
    Setting("founded_other", "1997-01-01",
            "Earliest plausible date (UTC) of a row of any other platform (simulated, "
            "generic files).",
            "SixDegrees.com, the first social network site, launched in 1997 (boyd and "
            "Ellison, J. Computer-Mediated Communication 13(1), 2007)"),
    Setting("plausible_skew_s", 86_400.0,
            "Seconds a date may lie after its row's observation time (or after the time of "
            "the load when the row has none) before it is rejected as in the future.",
            "time zones span UTC-12 to UTC+14, so a local time read as UTC is at most 14 h "
            "off; a day also covers clock skew"),
    Setting("plausible_count_max", 10_000_000_000,
            "Largest plausible count (followers, following, posts, listed, likes) of one "
            "account; larger counts are rejected.",
            "more than the world's population (8.1 billion, UN World Population Prospects "
            "2024): the most followed accounts have under a billion followers"),
    # -- saved contexts and what a marketer waits for ----------------------------------
    Setting("saved_max_follows", 200_000_000,
            "Largest graph (follows) whose score context is saved beside the store "
            "(`<store>.cache/`) for the next command; larger graphs are read and fitted "
            "each time.",
            "our choice: about 20 bytes per follow on disk, 4 GB at this size, against "
            "minutes to read and fit; Twitter-2010's 1.47B follows would take 30 GB"),
    Setting("saved_max_results", 64,
            "Derived results (rankings and relevance per topic, topic lists) a saved "
            "context keeps; the oldest go first.",
            "our choice: a few dozen topics of a working session"),
    Setting("aqs_peer_factor", 2.0,
            "Accounts of similar size for the AQS's engagement part: follower counts within "
            "this factor of the audited account's (widened by the same factor until "
            "aqs_min_peers have a known rate).",
            "our choice: one doubling either way, the size bands influencer tools compare "
            "engagement within (nano, micro, mid-tier, ...) are wider still"),
    Setting("aqs_min_peers", 50,
            "Fewest accounts of similar size the AQS's engagement percentile is taken among.",
            "our choice: a percentile from 50 accounts moves in steps of 2 points"),
    Setting("aqs_band_fair", 25.0, "Lowest AQS of the band Fair (below it: Poor).",
            "after HypeAuditor's five AQS bands (Poor ... Excellent); cut points ours"),
    Setting("aqs_band_average", 50.0, "Lowest AQS of the band Average.",
            "after HypeAuditor's bands; ours: half the points"),
    Setting("aqs_band_good", 70.0, "Lowest AQS of the band Good.",
            "after HypeAuditor's bands; cut points ours"),
    Setting("aqs_band_excellent", 85.0, "Lowest AQS of the band Excellent.",
            "after HypeAuditor's bands; ours: a real audience, engaged above most peers, "
            "no bought growth"),
    Setting("web_examples", 5,
            "Accounts and topics the search page offers before anything is searched (and "
            "topics the discover page suggests).",
            "our choice: a few places to start, one screen"),
    Setting("web_ready_wait_s", 1.0,
            "Seconds a page waits for the scores the server builds at start-up before it "
            "shows the progress page instead (which reloads itself).",
            "our choice: a loaded saved context is ready well within it; a first build "
            "takes seconds to minutes"),
    Setting("web_refresh_s", 2,
            "Seconds between reloads of the progress page shown while the scores are built.",
            "our choice: the stages change every few seconds"),
]}


def _config_file() -> dict[str, Any]:
    path = os.environ.get("TRUECLOUT_CONFIG")
    p = Path(path) if path else Path("trueclout.toml")
    if not p.exists():
        if path:
            raise UsageError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {p} is not valid TOML: {exc}") from exc
    section = data.get("trueclout", data)
    unknown = set(section) - set(SETTINGS)
    if unknown:
        raise UsageError(f"config file {p} has unknown settings: {', '.join(sorted(unknown))}")
    return section


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if isinstance(value, setting.type):
        return value
    try:
        if setting.type is bool:
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        return setting.type(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"setting {setting.name} from {origin} must be "
                         f"{setting.type.__name__}, got {value!r}") from exc


def value(name: str, given: Any = None) -> Any:
    """``given`` when it is not None, else the setting ``name``: for keyword arguments
    whose default lives in config.

    Examples
    --------
    >>> value("sim_seed", 3), value("sim_seed") == get("sim_seed")
    (3, True)
    """
    return get(name) if given is None else given


def get(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """Return the value of setting ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`SETTINGS`.
    overrides : dict, optional
        Explicit values (for example CLI flags); ``None`` values are ignored.

    Examples
    --------
    >>> get("sim_seed", overrides={"sim_seed": 7})
    7
    >>> get("nope")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: unknown setting 'nope'
    """
    if name not in SETTINGS:
        raise UsageError(f"unknown setting {name!r}")
    setting = SETTINGS[name]
    if overrides and overrides.get(name) is not None:
        return _coerce(setting, overrides[name], "the command line")
    env = os.environ.get(f"TRUECLOUT_{name.upper()}")
    if env is not None:
        return _coerce(setting, env, f"TRUECLOUT_{name.upper()}")
    file_values = _config_file()
    if name in file_values:
        return _coerce(setting, file_values[name], "the config file")
    return setting.default
