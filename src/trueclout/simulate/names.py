"""Plausible strings for simulated profiles and posts, generated a block at a time.

Names are random syllables; handles follow the shapes seen in the Cresci data (humans:
``marcorossi``, ``Marco_Rossi``, ``mrossi84``; bought fakes: first and last name plus a few
random letters, ``nidadouglaserrs``). Descriptions and posts are drawn from a small
vocabulary, with the words of the author's topic community. Every function takes a numpy
generator and returns Arrow arrays, with no Python loop per row.

Examples
--------
>>> import numpy as np
>>> from trueclout.simulate.names import person_names, handles, topic_tag
>>> rng = np.random.default_rng(0)
>>> first, last = person_names(rng, 3)
>>> len(first), first.type
(3, DataType(string))
>>> len(handles(rng, first, last, np.array([False, True, False])))
3
>>> topic_tag(12)
'topic12'
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .writer import const_strings

_ONSETS = ["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "z", "k", "j",
           "h", "ch", "br", "gr", "st", "tr", "sh", "w", "y", "th"]
_NUCLEI = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ia", "ea"]
_CODAS = ["", "", "", "", "", "", "n", "r", "l", "s"]
SYLLABLES = pa.array([o + n + c for o in _ONSETS for n in _NUCLEI for c in _CODAS])
_LAST_ENDINGS = pa.array(["", "", "", "", "", "i", "o", "s", "son", "ez", "er", "ski",
                          "ton", "ard", "man", "sen"])
_LETTERS = pa.array(list("abcdefghijklmnopqrstuvwxyz"))

#: Interest words; each community gets three of them as its topic vocabulary.
INTERESTS = [
    "music", "football", "coding", "travel", "photography", "politics", "cinema", "books",
    "art", "science", "fashion", "food", "cooking", "gaming", "fitness", "running",
    "cycling", "tech", "startups", "design", "history", "economics", "nature", "cats",
    "dogs", "coffee", "wine", "jazz", "rock", "poetry", "theatre", "anime", "basketball",
    "tennis", "climbing", "yoga", "medicine", "law", "journalism", "marketing", "crypto",
    "ai", "data", "math", "physics", "astronomy", "chess", "gardening", "architecture",
    "surfing", "skiing", "baking", "beer", "podcasts", "comics", "hiphop", "classical",
    "opera", "sailing", "fishing", "hiking", "birds", "space", "robotics", "linux",
    "python", "security", "education", "parenting", "health", "nutrition", "mindfulness",
    "philosophy", "religion", "languages", "film", "tv", "series", "formula1", "motogp",
    "cricket", "rugby", "golf", "boxing", "mma", "esports", "vinyl", "guitar", "piano",
    "drums", "dance", "painting", "sculpture", "illustration", "writing", "novels",
    "scifi", "fantasy", "horror", "mystery", "cars", "bikes", "trains", "aviation",
    "diy", "woodwork", "knitting", "pets", "horses", "environment", "climate", "energy",
    "finance", "investing", "realestate", "jobs", "design", "ux", "biology", "chemistry",
]
_GENERAL = [
    "love", "life", "lover", "fan", "of", "and", "the", "my", "in", "with", "for", "about",
    "opinions", "are", "own", "views", "based", "living", "sometimes", "always", "never",
    "enthusiast", "addict", "curious", "happy", "proud", "new", "old", "world", "city",
    "family", "friends", "work", "home", "day", "good", "things", "people", "ideas",
    "news", "stories", "future", "past", "time", "dreams", "real", "just", "here", "now",
    "|", "|", "·", "-", "&",
]
_ROLES = [
    "student", "teacher", "engineer", "writer", "designer", "developer", "nurse", "doctor",
    "lawyer", "journalist", "dad", "mom", "photographer", "researcher", "founder",
    "musician", "artist", "editor", "analyst", "consultant", "manager", "chef", "coach",
    "professor", "scientist", "producer", "blogger", "activist", "freelancer", "farmer",
]
_FAKE_PHRASES = [
    "love", "is", "life", "just", "me", "lol", "music", "my", "god", "family", "first",
    "living", "the", "dream", "follow", "back", "good", "vibes", "only", "smile", "be",
    "happy", "im", "a", "simple", "girl", "guy", "haters", "gonna", "hate", "party",
    "forever", "young", "money", "team", "follow4follow", "blessed", "positive", "mind",
]
_CITIES = [
    "London", "New York", "Paris", "Berlin", "Madrid", "Rome", "Milan", "Tokyo", "Osaka",
    "São Paulo", "Rio de Janeiro", "Mexico City", "Buenos Aires", "Toronto", "Chicago",
    "Los Angeles", "San Francisco", "Seattle", "Austin", "Boston", "Dublin", "Lisbon",
    "Barcelona", "Amsterdam", "Brussels", "Vienna", "Zurich", "Stockholm", "Oslo",
    "Copenhagen", "Helsinki", "Warsaw", "Prague", "Istanbul", "Ankara", "Cairo", "Lagos",
    "Nairobi", "Johannesburg", "Mumbai", "Delhi", "Bangalore", "Seoul", "Jakarta",
    "Manila", "Sydney", "Melbourne", "Auckland", "Naples", "Turin", "Florence", "Lyon",
    "Marseille", "Hamburg", "Munich", "Valencia", "Seville", "Porto", "Montreal", "Lima",
]
_COUNTRIES = ["", "", "", "UK", "USA", "France", "Germany", "Spain", "Italy", "Japan",
              "Brazil", "Mexico", "Canada", "Ireland", "Portugal", "Netherlands", "Turkey",
              "India", "Korea", "Australia"]
_US_PLACES = ["Nashville, TN", "Murphy, NC", "Los Angeles, CA", "Houston, TX", "Miami, FL",
              "Atlanta, GA", "Phoenix, AZ", "Denver, CO", "Detroit, MI", "Columbus, OH",
              "Portland, OR", "Las Vegas, NV", "Orlando, FL", "Dallas, TX", "Memphis, TN",
              "USA", "California", "Texas", "New York", "Florida", "Sweden", "nigeria"]
#: Languages of communities with their weights (our choice, roughly Twitter's mix).
LANGS = ["en", "ja", "es", "pt", "ar", "fr", "tr", "ko", "it", "de", "id", "ru"]
LANG_WEIGHTS = np.array([40, 14, 12, 7, 5, 4, 3, 3, 3, 3, 3, 3], dtype=np.float64)

_VOCAB = pa.array(INTERESTS + _GENERAL + _ROLES + _FAKE_PHRASES)
_I0 = 0
_G0 = len(INTERESTS)
_R0 = _G0 + len(_GENERAL)
_F0 = _R0 + len(_ROLES)
_NF = len(_FAKE_PHRASES)


def topic_tag(community: int) -> str:
    """The hashtag (without ``#``) of a topic community.

    Examples
    --------
    >>> topic_tag(3)
    'topic3'
    """
    return f"topic{int(community)}"


def community_words(rng: np.random.Generator, k: int) -> np.ndarray:
    """Three interest-word indices per community, shape ``(k, 3)``.

    Examples
    --------
    >>> community_words(np.random.default_rng(1), 4).shape
    (4, 3)
    """
    return np.stack([rng.choice(len(INTERESTS), 3, replace=False) for _ in range(k)]) \
        if k else np.zeros((0, 3), dtype=np.int64)


def _join(pieces: pa.Array, counts: np.ndarray, sep: str) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pieces)
    return pc.binary_join(lists, sep)


def words_from_syllables(rng: np.random.Generator, n: int, lo: int = 2,
                         hi: int = 3) -> pa.Array:
    """``n`` lower-case pseudo-words of ``lo`` to ``hi`` random syllables.

    Examples
    --------
    >>> w = words_from_syllables(np.random.default_rng(0), 4)
    >>> all(s.isalpha() and s.islower() for s in w.to_pylist())
    True
    """
    counts = rng.integers(lo, hi + 1, size=n)
    idx = rng.integers(0, len(SYLLABLES), size=int(counts.sum()))
    return _join(SYLLABLES.take(pa.array(idx)), counts, "")


def person_names(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """Lower-case first and last names.

    Examples
    --------
    >>> f, l = person_names(np.random.default_rng(0), 2)
    >>> len(f.to_pylist()[0]) >= 2
    True
    """
    first = words_from_syllables(rng, n, 2, 2)
    last = words_from_syllables(rng, n, 2, 2)
    ending = _LAST_ENDINGS.take(pa.array(rng.integers(0, len(_LAST_ENDINGS), n)))
    last = pc.binary_join_element_wise(last, ending, "")
    return first, last


def _digits(rng: np.random.Generator, n: int, lo: int, hi: int) -> pa.Array:
    width = rng.integers(lo, hi + 1, size=n)
    vals = rng.integers(0, 10 ** width)
    # zero-padded decimal strings: prefix a 1 and drop it
    s = pc.cast(pa.array(vals + 10 ** width), pa.string())
    return pc.utf8_slice_codeunits(s, 1)


def _pick(mask: np.ndarray, a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), a, b)


def handles(rng: np.random.Generator, first: pa.Array, last: pa.Array,
            fake: np.ndarray) -> pa.Array:
    """Handles (at most 15 characters), shaped like E13 humans or INT fakes.

    Humans: 19.5% contain ``_``, 52% capitals, 22% digits (E13). Fakes: first and last
    name plus 2-4 random letters, 11% capitals, 4% digits, no ``_`` (INT).

    Examples
    --------
    >>> f, l = person_names(np.random.default_rng(0), 50)
    >>> h = handles(np.random.default_rng(1), f, l, np.zeros(50, bool)).to_pylist()
    >>> max(map(len, h)) <= 15
    True
    """
    n = len(first)
    fake = np.asarray(fake, dtype=bool)
    upper = rng.random(n) < np.where(fake, 0.11, 0.525)
    f_c = _pick(upper, pc.utf8_capitalize(first), first)
    l_c = _pick(upper, pc.utf8_capitalize(last), last)
    initial = pc.utf8_slice_codeunits(f_c, 0, 1)
    shape = rng.random(n)
    human_base = _pick(shape < 0.55, pc.binary_join_element_wise(f_c, l_c, ""),
                       _pick(shape < 0.8, pc.binary_join_element_wise(initial, l_c, ""),
                             f_c))
    under = (rng.random(n) < 0.195) & ~fake
    human_base = _pick(under & (shape < 0.55),
                       pc.binary_join_element_wise(f_c, l_c, "_"), human_base)
    human_base = _pick(under & (shape >= 0.55),
                       pc.binary_join_element_wise(human_base, const_strings("_", n), ""),
                       human_base)
    counts = rng.integers(2, 5, size=n)
    letters = _join(_LETTERS.take(pa.array(rng.integers(0, 26, int(counts.sum())))),
                    counts, "")
    fshape = rng.random(n)
    fake_base = _pick(fshape < 0.35, pc.binary_join_element_wise(f_c, letters, ""),
                      _pick(fshape < 0.65, pc.binary_join_element_wise(l_c, letters, ""),
                            pc.binary_join_element_wise(f_c, l_c, letters, "")))
    base = _pick(fake, fake_base, human_base)
    with_digits = rng.random(n) < np.where(fake, 0.036, 0.218)
    digits = _digits(rng, n, 1, 4)
    dlen = np.where(with_digits, pc.utf8_length(digits).to_numpy(zero_copy_only=False), 0)
    base = pc.utf8_slice_codeunits(base, 0, 15)
    base_len = pc.utf8_length(base).to_numpy(zero_copy_only=False)
    keep = np.minimum(base_len, 15 - dlen)
    # slice each base to its own length: group by the few distinct lengths
    out = base
    if with_digits.any():
        trimmed = base
        for k in np.unique(keep[with_digits]):
            sel = with_digits & (keep == k)
            trimmed = _pick(sel, pc.utf8_slice_codeunits(base, 0, int(k)), trimmed)
        out = _pick(with_digits, pc.binary_join_element_wise(trimmed, digits, ""), base)
    return out


def unique_handles(h: pa.Array, ids: np.ndarray) -> pa.Array:
    """Make handles unique: a repeated handle gets digits of its account index appended.

    Examples
    --------
    >>> unique_handles(pa.array(["ann", "ann", "bob"]), np.arange(3)).to_pylist()
    ['ann', 'ann1', 'bob']
    """
    ids = np.asarray(ids, dtype=np.int64)
    for round_ in range(6):
        enc = pc.dictionary_encode(pc.utf8_lower(h))
        codes = enc.indices.to_numpy(zero_copy_only=False)
        first = np.full(len(enc.dictionary), -1, dtype=np.int64)
        # first position of each code
        order = np.arange(len(codes))[::-1]
        first[codes[order]] = order
        dup = first[codes] != np.arange(len(codes))
        if not dup.any():
            return h
        suffix = pc.cast(pa.array((ids[dup] * (round_ + 1)) % (10 ** (round_ + 3))),
                         pa.string())
        fixed = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(h.filter(pa.array(dup)), 0, 15 - 3 - round_), suffix, "")
        h = pc.replace_with_mask(h, pa.array(dup), fixed)
    return h


def display_names(rng: np.random.Generator, first: pa.Array, last: pa.Array,
                  fake: np.ndarray) -> pa.Array:
    """Display names "First Last"; 1.6% of humans add digits (E13), fakes never (INT).

    Examples
    --------
    >>> f, l = person_names(np.random.default_rng(0), 1)
    >>> " " in display_names(np.random.default_rng(0), f, l, np.array([True]))[0].as_py()
    True
    """
    n = len(first)
    name = pc.binary_join_element_wise(pc.utf8_capitalize(first), pc.utf8_capitalize(last),
                                       " ")
    add = (rng.random(n) < 0.016) & ~np.asarray(fake, bool)
    if add.any():
        name = _pick(add, pc.binary_join_element_wise(name, _digits(rng, n, 2, 2), " "), name)
    return name


def descriptions(rng: np.random.Generator, comm_words: np.ndarray, fake: np.ndarray,
                 present: np.ndarray) -> pa.Array:
    """Profile descriptions (null where ``present`` is False), at most 160 characters.

    Humans mix their community's interest words, roles and common words; fakes string
    together generic phrases. Word counts are lognormal so that lengths have E13's
    quartiles (42, 81, 128 characters).

    Parameters
    ----------
    comm_words : numpy.ndarray, shape (n, 3)
        Interest-word indices of each account's community (any for fakes).

    Examples
    --------
    >>> d = descriptions(np.random.default_rng(0), np.zeros((2, 3), int),
    ...                  np.array([False, True]), np.array([True, False]))
    >>> d[1].as_py() is None, len(d[0].as_py()) <= 160
    (True, True)
    """
    n = len(fake)
    fake = np.asarray(fake, bool)
    k = np.clip(np.rint(np.exp(rng.normal(np.log(13.0), 0.7, n))), 1, 26).astype(np.int64)
    total = int(k.sum())
    owner = np.repeat(np.arange(n), k)
    kind = rng.random(total)
    topic = comm_words[owner, rng.integers(0, 3, total)] + _I0
    general = rng.integers(0, len(_GENERAL), total) + _G0
    role = rng.integers(0, len(_ROLES), total) + _R0
    fph = rng.integers(0, _NF, total) + _F0
    code = np.where(kind < 0.3, topic, np.where(kind < 0.88, general, role))
    code = np.where(fake[owner], fph, code)
    text = _join(_VOCAB.take(pa.array(code)), k, " ")
    text = pc.utf8_slice_codeunits(text, 0, 160)
    cap = rng.random(n) < np.where(fake, 0.3, 0.7)
    text = _pick(cap, pc.utf8_capitalize(text), text)
    return pc.if_else(pa.array(np.asarray(present, bool)), text, pa.nulls(n, pa.string()))


def locations(rng: np.random.Generator, fake: np.ndarray, present: np.ndarray) -> pa.Array:
    """Free-text locations (null where ``present`` is False).

    Examples
    --------
    >>> locations(np.random.default_rng(0), np.array([True]), np.array([True]))[0].as_py() != ""
    True
    """
    n = len(fake)
    city = pa.array(_CITIES).take(pa.array(rng.integers(0, len(_CITIES), n)))
    ctry = pa.array(_COUNTRIES).take(pa.array(rng.integers(0, len(_COUNTRIES), n)))
    both = pc.binary_join_element_wise(city, ctry, ", ")
    human = _pick(pc.equal(ctry, "").to_numpy(zero_copy_only=False), city, both)
    us = pa.array(_US_PLACES).take(pa.array(rng.integers(0, len(_US_PLACES), n)))
    loc = _pick(np.asarray(fake, bool), us, human)
    return pc.if_else(pa.array(np.asarray(present, bool)), loc, pa.nulls(n, pa.string()))


def urls(handle: pa.Array, present: np.ndarray) -> pa.Array:
    """Home-page URLs on reserved example domains (null where ``present`` is False).

    Examples
    --------
    >>> urls(pa.array(["Ann"]), np.array([True])).to_pylist()
    ['https://ann.example.net']
    """
    n = len(handle)
    u = pc.binary_join_element_wise(const_strings("https://", n),
                                    pc.utf8_lower(handle), const_strings(".example.net", n), "")
    return pc.if_else(pa.array(np.asarray(present, bool)), u, pa.nulls(n, pa.string()))


def post_texts(rng: np.random.Generator, comm_words: np.ndarray, fake: np.ndarray,
               tags: pa.Array, mention_handles: pa.Array | None = None) -> pa.Array:
    """Post texts: words of the author's topic and common words, then ``#tag`` and, where
    ``mention_handles`` is not null, ``@handle``.

    Examples
    --------
    >>> t = post_texts(np.random.default_rng(0), np.zeros((1, 3), int), np.array([False]),
    ...                pa.array(["topic0"]), pa.array(["ann"]))
    >>> "#topic0" in t[0].as_py() and "@ann" in t[0].as_py()
    True
    """
    n = len(fake)
    words = descriptions(rng, comm_words, fake, np.ones(n, bool))
    words = pc.utf8_slice_codeunits(words, 0, 200)
    hashed = pc.binary_join_element_wise(const_strings("#", n), tags, "")
    text = pc.binary_join_element_wise(words, hashed, " ")
    if mention_handles is not None:
        at = pc.binary_join_element_wise(const_strings("@", n), mention_handles, "")
        with_at = pc.binary_join_element_wise(at, text, " ")
        text = pc.if_else(pc.is_null(mention_handles), text, with_at)
    return text
