"""Deterministic synthetic data for the benchmarks: wire-style items, a large library, a year-long stream.

Everything here is generated from a seeded `random.Random`, so two runs with the same seed produce the
same bytes. Items are built from neutral filler sentences (English, some Arabic) into which library
vocabulary is mixed in three ways:

- *mentions*: a gazetteer alias or a literal term of the library dropped into a neutral sentence, so
  the automaton finds it and the rules watching it become candidates (evaluated, usually not firing);
- *signals*: a sentence written to make an indicator fire (the library's own `examples.match`, or a
  template built from the library's gazetteer roles for windowed rules);
- *hard negatives*: the library's `examples.no_match`, which look like signals but must not fire.

This module is not a benchmark (`python -m bench` skips it); bench.matching and bench.backtest use it.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from app.matching.normalize import has_arabic

# ------------------------------------------------------------------------------------------------
# neutral wire-style filler, written for these benchmarks
# ------------------------------------------------------------------------------------------------

_OFFICIALS = [
    "A government spokesman", "The interior ministry", "Local officials", "A senior diplomat", "Police sources",
    "The provincial governor", "Analysts", "The planning ministry", "A parliamentary committee", "The central bank",
    "Residents", "Aid agencies", "The electricity ministry", "A trade delegation", "The oil ministry",
]
_CITIES = ["Baghdad", "Basra", "Mosul", "Najaf", "Karbala", "Kirkuk", "Ramadi", "Amman", "Beirut", "Damascus",
           "Kuwait City", "Doha", "Nasiriyah", "Samarra", "Hilla", "Diwaniyah", "Tikrit", "Kut"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_TOPICS = [
    "electricity shortages", "the federal budget", "oil exports", "water rights on the Tigris",
    "the upcoming elections", "fuel prices", "reconstruction contracts", "the wheat harvest", "a cabinet reshuffle",
    "border crossings", "public sector salaries", "the currency auction", "hospital funding", "school enrolment",
    "port tariffs", "a new railway link", "gas flaring", "housing loans", "mobile network licences", "customs reform",
]
_THINGS = ["rice", "cement", "cooking gas", "steel", "tomatoes", "diesel", "flour", "medicines", "sugar", "tyres"]
_OBSTACLES = ["a shortfall in revenue", "delays in parliament", "a dispute over land", "procurement problems",
              "disagreement among ministries", "low water levels", "a strike by port workers"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_EN_FILLER = [
    "{o} in {c} said on {d} that talks on {t} would resume next week.",
    "{o} told reporters the government remained committed to {t} despite {x}.",
    "Prices of {g} rose by {n} percent in {m}, the statistics office said in a statement.",
    "The meeting in {c} focused on {t}, according to a statement released after the session.",
    "{o} said {n} new projects had been approved, most of them in {c} and the surrounding districts.",
    "Traffic returned to normal in central {c} on {d} after roads closed for maintenance were reopened.",
    "Lawmakers are expected to vote on a draft law covering {t} before the end of {m}.",
    "{o} warned that {x} could delay work on {t} for several months.",
    "Imports of {g} fell sharply in {m} as traders waited for a decision on {t}.",
    "A delegation from {c} arrived on {d} for two days of talks on {t} and {t2}.",
    "The ministry said it had received more than {n}00 applications since the programme opened in {m}.",
    "Shopkeepers in {c} said demand for {g} had picked up ahead of the holiday.",
    "{o} said the figures for {m} would be published once the audit was complete.",
    "Engineers began inspecting the bridge in {c} on {d}, a week after heavy rain damaged its supports.",
    "The report, released on {d}, said {t} remained the main concern for households in {c}.",
    "Officials said a tender for {t} would be announced in {m}, with bids due within {n} weeks.",
    "{o} in {c} said the new timetable for {t} had been agreed with donors.",
    "Farmers near {c} said {x} had cut their income this season.",
    "The governor of {c} opened a water treatment plant on {d} that will serve about {n}0,000 people.",
    "Economists said the rise in {g} prices reflected higher transport costs rather than shortages.",
    "Students in {c} sat their final examinations on {d} under new rules on {t}.",
    "{o} said a committee would review {t} and report back in {m}.",
]
_EN_MENTION = [
    "{o} in {c} referred to {w} when asked about {t}, without giving details.",
    "The statement issued on {d} also mentioned {w}.",
    "Reports that circulated in {c} on {d} about {w} could not be independently verified.",
    "Commentators on local television discussed {w} at length on {d}.",
    "Asked about {w}, {o2} said it was too early to comment.",
]
_AR_CITIES = ["بغداد", "البصرة", "الموصل", "النجف", "كربلاء", "كركوك", "الأنبار", "الناصرية", "الحلة"]
_AR_DAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
_AR_TOPICS = ["الموازنة العامة", "صادرات النفط", "أزمة الكهرباء", "الانتخابات المقبلة", "ملف المياه",
              "أسعار الوقود", "مشاريع الإعمار", "رواتب الموظفين", "موسم الحصاد", "المنافذ الحدودية"]
_AR_FILLER = [
    "قال مسؤول حكومي في {c} يوم {d} إن المحادثات بشأن {t} ستستأنف الأسبوع المقبل.",
    "أعلنت وزارة التخطيط أن الأسعار ارتفعت بنسبة {n} في المئة خلال الشهر الماضي.",
    "وأكد المتحدث باسم الحكومة أن الاجتماع ناقش {t} وسبل تعزيز التعاون بين الوزارات.",
    "ذكرت مصادر محلية أن حركة المرور عادت إلى طبيعتها في {c} بعد إعادة فتح الطرق.",
    "وأشار التقرير إلى أن {t} لا يزال يمثل تحديا كبيرا أمام الحكومة في {c}.",
    "عقد البرلمان جلسة يوم {d} لمناقشة {t} بحضور عدد من النواب.",
    "قالت وزارة الكهرباء إن ساعات التجهيز ستتحسن مع دخول محطات جديدة إلى الخدمة.",
    "وأضاف أن اللجنة المختصة ستقدم توصياتها بشأن {t} خلال {n} أيام.",
    "أفاد مراسلون بأن الأسواق في {c} شهدت إقبالا كبيرا قبل العيد.",
    "وقال خبراء اقتصاديون إن {t} يتطلب إصلاحات طويلة الأمد.",
    "افتتح محافظ {c} يوم {d} محطة لتصفية المياه تخدم آلاف السكان.",
    "وبحث الوفد الزائر في {c} ملفات {t} و{t2} مع المسؤولين المحليين.",
]
_AR_MENTION = [
    "وتطرق الاجتماع في {c} أيضا إلى {w} دون تفاصيل إضافية.",
    "ونقلت وسائل إعلام محلية يوم {d} تصريحات تشير إلى {w}.",
    "ولم يتسن التحقق بشكل مستقل من تقارير عن {w}.",
]


class Writer:
    """Builds ~N-byte items from filler, mentions and signals with one seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def filler(self, arabic: bool) -> str:
        r = self.rng
        if arabic:
            return r.choice(_AR_FILLER).format(c=r.choice(_AR_CITIES), d=r.choice(_AR_DAYS), t=r.choice(_AR_TOPICS),
                                               t2=r.choice(_AR_TOPICS), n=r.randint(2, 40))
        t, t2 = r.sample(_TOPICS, 2)
        return r.choice(_EN_FILLER).format(o=r.choice(_OFFICIALS), c=r.choice(_CITIES), d=r.choice(_DAYS), t=t, t2=t2,
                                           x=r.choice(_OBSTACLES), g=r.choice(_THINGS), m=r.choice(_MONTHS),
                                           n=r.randint(2, 40))

    def mention(self, word: str, arabic: bool) -> str:
        r = self.rng
        if arabic:
            return r.choice(_AR_MENTION).format(c=r.choice(_AR_CITIES), d=r.choice(_AR_DAYS), w=word)
        o, o2 = r.sample(_OFFICIALS, 2)
        return r.choice(_EN_MENTION).format(o=o, o2=o2.lower(), c=r.choice(_CITIES), d=r.choice(_DAYS), w=word,
                                            t=r.choice(_TOPICS))

    def item(self, *, signals: list[str] = (), mentions: list[str] = (), arabic: bool = False,
             size: int = 1500) -> dict[str, str]:
        """title (a signal when there is one, else filler), a 1-2 sentence summary, content up to `size` chars."""
        r = self.rng
        signals, extra = list(signals), [self.mention(w, arabic) for w in mentions]
        title = signals.pop(0) if signals and r.random() < 0.6 else self.filler(arabic)
        title = title.rstrip(".")
        if len(title) > 140:  # a long signal stays in the summary, its opening words become the title
            signals.insert(0, title + ".")
            title = " ".join(title.split()[:12])
        summary = [signals.pop(0)] if signals else [self.filler(arabic)]
        if r.random() < 0.5:
            summary.append(self.filler(arabic))
        body = signals + extra
        budget = size - len(title) - sum(len(s) + 1 for s in summary)
        paragraph: list[str] = []
        length = sum(len(s) + 1 for s in body)
        while length < budget:
            s = self.filler(arabic)
            paragraph.append(s)
            length += len(s) + 1
        for s in body:  # spread the library sentences through the body
            paragraph.insert(r.randint(0, len(paragraph)), s)
        content = "\n\n".join(" ".join(paragraph[i:i + 4]) for i in range(0, len(paragraph), 4))
        return {"title": title, "summary": " ".join(summary), "content": content}


def example_text(example) -> str:
    """An indicator example (title / summary / content) as one sentence-like string."""
    parts = [p.strip().rstrip(".") for p in (example.title, example.summary, example.content) if p and p.strip()]
    return ". ".join(parts) + "."


@dataclass
class Vocab:
    """What a library offers the item writer, split by script."""

    mentions: dict[bool, list[str]] = field(default_factory=lambda: {False: [], True: []})
    signals: dict[bool, list[str]] = field(default_factory=lambda: {False: [], True: []})
    negatives: dict[bool, list[str]] = field(default_factory=lambda: {False: [], True: []})
    by_indicator: dict[str, list[str]] = field(default_factory=dict)


def library_vocab(library) -> Vocab:
    """Mentions (aliases and literal terms), signals and hard negatives taken from a loaded Library."""
    v = Vocab()
    words: set[str] = set()
    for ent in library.entities.values():
        words.update(ent.aliases)
    for ind in library.indicators.values():
        groups = [*(getattr(ind, "terms", None) or {}).values(), *(getattr(ind, "topics", None) or {}).values()]
        for extra in ("units", "cues", "head_nouns"):
            groups.append(getattr(ind, extra, None) or [])
        for terms in groups:
            words.update(t.rstrip("*") for t in terms if not t.startswith("@"))
        for ex in ind.examples.match:
            text = example_text(ex)
            v.signals[has_arabic(text)].append(text)
            v.by_indicator.setdefault(ind.id, []).append(text)
        for ex in ind.examples.no_match:
            text = example_text(ex)
            v.negatives[has_arabic(text)].append(text)
    for terms in library.vocabulary.values():
        words.update(t.rstrip("*") for t in terms if not t.startswith("@"))
    for w in sorted(words):
        if w.strip():
            v.mentions[has_arabic(w)].append(w)
    return v


def wire_items(n: int, vocab: Vocab, seed: int = 1, *, size: int = 1500, arabic_share: float = 0.1,
               mentions_per_item: int = 4, signal_share: float = 0.2, negative_share: float = 0.1,
               mention_share: float = 1.0) -> list[dict]:
    """`n` independent ~`size`-char items: a `mention_share` of them carry mentions, some a signal or a hard
    negative."""
    rng = random.Random(seed)
    w = Writer(rng)
    out = []
    for _ in range(n):
        ar = rng.random() < arabic_share and bool(vocab.mentions[True])
        pool = vocab.mentions[ar] or vocab.mentions[False]
        k = rng.randint(mentions_per_item // 2, mentions_per_item * 3 // 2)
        if mention_share < 1 and rng.random() >= mention_share:
            k = 0
        mentions = rng.sample(pool, min(len(pool), k))
        signals = []
        if vocab.signals[ar] and rng.random() < signal_share:
            signals.append(rng.choice(vocab.signals[ar]))
        if vocab.negatives[ar] and rng.random() < negative_share:
            signals.append(rng.choice(vocab.negatives[ar]))
        out.append(w.item(signals=signals, mentions=mentions, arabic=ar, size=size))
    return out


# ------------------------------------------------------------------------------------------------
# a large synthetic library, written with the real schema into a folder the real loader reads
# ------------------------------------------------------------------------------------------------

_LATIN_SYL = ["ka", "ta", "ib", "al", "ra", "su", "mi", "dar", "zan", "qu", "ha", "bel", "nor", "vi", "sha", "gho",
              "lek", "mar", "tun", "pas", "ye", "do", "fir", "wan", "jo", "ul", "ter", "kes", "bru", "lom"]
_ARABIC_SYL = ["كا", "تا", "بو", "را", "سي", "مي", "دار", "زان", "قو", "حا", "بيل", "نور", "شا", "غو", "لك", "مر"]
_HEADS = ["Saraya", "Liwa", "Jaysh", "Harakat", "Kata'ib", "Usbat", "Quwat", "Firqat", "Ashab", "Tashkil"]
_HEADS_AR = ["سرايا", "لواء", "جيش", "حركة", "كتائب", "عصبة"]


def _word(rng: random.Random, syl: list[str], lo: int = 2, hi: int = 3) -> str:
    return "".join(rng.choice(syl) for _ in range(rng.randint(lo, hi)))


@dataclass
class SyntheticLibrary:
    """What was written, for reporting and for writing items that use it."""

    root: Path
    entities: int
    aliases: int
    indicators: int
    roles: int
    terms: int


def write_library(root: Path, *, indicators: int = 1000, aliases: int = 10_000, roles: int = 25,
                  aliases_per_entity: int = 5, terms: int = 3000, seed: int = 7) -> SyntheticLibrary:
    """A gazetteer of `aliases` aliases and `indicators` match indicators over it, in `root`.

    Entities carry 1-2 of `roles` roles and `aliases_per_entity` spellings (about 10 % in Arabic script,
    Latin ones with apostrophes, hyphens and diacritics). Each indicator has an actor group (`@role:`
    references, or a few `@entity:` ones), an action group of literal terms and, for some, a context
    group, an exclusion group and a proximity constraint, and one `examples.match` sentence.
    """
    rng = random.Random(seed)
    (root / "tripwires").mkdir(parents=True, exist_ok=True)
    role_names = [f"role-{i:02d}" for i in range(roles)]
    seen: set[str] = set()

    def fresh(make) -> str:
        while True:
            s = make()
            key = s.lower().replace("'", "").replace("-", " ")
            if key not in seen:
                seen.add(key)
                return s

    def latin_alias() -> str:
        a, b = _word(rng, _LATIN_SYL).capitalize(), _word(rng, _LATIN_SYL).capitalize()
        shape = rng.random()
        if shape < 0.35:
            return f"{rng.choice(_HEADS)} {a} al-{b}"
        if shape < 0.55:
            return f"{a} {b}"
        if shape < 0.7:
            return f"{a}'{_word(rng, _LATIN_SYL, 1, 2)} {b}"
        if shape < 0.8:
            return f"{a.replace('a', 'á', 1)} {b}"
        if shape < 0.9:
            return f"{a}-{b} Brigades"
        return "".join(c for c in (a + b).upper() if c not in "AEIOU")[:4] + _word(rng, _LATIN_SYL, 1, 1).upper()

    def arabic_alias() -> str:
        return f"{rng.choice(_HEADS_AR)} {_word(rng, _ARABIC_SYL)} {_word(rng, _ARABIC_SYL)}"

    n_entities = math.ceil(aliases / aliases_per_entity)
    entities, made = [], 0
    for i in range(n_entities):
        k = min(aliases_per_entity, aliases - made)
        names = [fresh(arabic_alias if rng.random() < 0.1 else latin_alias) for _ in range(k)]
        made += k
        entities.append({
            "id": f"ent-{i:05d}", "name": names[0], "type": rng.choice(["group", "group", "person", "place"]),
            "roles": rng.sample(role_names, rng.choice([1, 1, 2])), "source": "synthetic", "aliases": names,
        })
    _dump(root / "gazetteer.yaml", {"entities": entities})
    scenarios = [f"scenario-{i}" for i in range(5)]
    _dump(root / "scenarios.yaml", {"scenarios": [
        {"id": s, "name": f"Synthetic scenario {s}", "lookback": "30d", "levels": {"guarded": 2, "elevated": 6}}
        for s in scenarios]})

    # literal terms: mostly invented words and phrases, some prefix terms, some Arabic, a few real words
    common = ["attack", "convoy", "strike*", "militia", "rocket*", "drone*", "ceasefire", "ambush*", "protest*",
              "talks"]  # "talks" also occurs in the filler, so some rules are candidates on neutral text
    pool: list[str] = list(common)
    while len(pool) < terms:
        r = rng.random()
        if r < 0.1:
            pool.append(fresh(lambda: _word(rng, _ARABIC_SYL)))
        elif r < 0.3:
            pool.append(fresh(lambda: _word(rng, _LATIN_SYL) + "*"))
        elif r < 0.6:
            pool.append(fresh(lambda: f"{_word(rng, _LATIN_SYL)} {_word(rng, _LATIN_SYL, 1, 2)}"))
        else:
            pool.append(fresh(lambda: _word(rng, _LATIN_SYL)))
    by_role: dict[str, list[dict]] = {r: [] for r in role_names}
    for e in entities:
        for r in e["roles"]:
            by_role[r].append(e)

    held = [r for r in role_names if by_role[r]]  # a small gazetteer may leave a role unused
    for i in range(indicators):
        if rng.random() < 0.6:
            actor_roles = rng.sample(held, min(len(held), rng.choice([1, 1, 2])))
            actor = [f"@role:{r}" for r in actor_roles]
            example_entity = rng.choice(by_role[actor_roles[0]])
        else:
            chosen = rng.sample(entities, rng.randint(2, 5))
            actor = [f"@entity:{e['id']}" for e in chosen]
            example_entity = chosen[0]
        action = rng.sample(pool, rng.randint(4, 10))
        groups = {"actor": actor, "action": action}
        clause: dict = {"all": ["actor", "action"]}
        if rng.random() < 0.5:
            groups["context"] = rng.sample(pool, rng.randint(3, 6))
            clause = {"all": ["actor"], "any": ["action", "context"]}
        if rng.random() < 0.3:
            groups["exclude"] = rng.sample([t for t in pool if t not in action], rng.randint(2, 3))
            clause["none"] = ["exclude"]
        if rng.random() < 0.3:
            clause["near"] = [{"groups": ["actor", "action"], "within": 10}]
        alias = rng.choice(example_entity["aliases"])
        term = action[0]
        doc = {
            "id": f"synthetic-{i:04d}", "name": f"Synthetic indicator {i}", "kind": "match",
            "source": "synthetic (bench/synthetic.py)", "scenarios": [rng.choice(scenarios)],
            "severity": rng.choice(["low", "medium", "high"]), "terms": groups, "when": [clause],
            "examples": {"match": [f"{alias} {term.rstrip('*')} near the crossing"]},
        }
        _dump(root / "tripwires" / f"synthetic-{i:04d}.yaml", doc)
    return SyntheticLibrary(root, len(entities), made, indicators, roles, len(pool))


def _dump(path: Path, data) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# a year-long stream for backtests: background, bursts, quiet periods, coordinated endorsements
# ------------------------------------------------------------------------------------------------

# (first day, last day, {indicator id: signal items per day}) over the default library; days from Jan 1
PHASES: list[tuple[int, int, dict[str, float]]] = [
    (0, 59, {"indirect-fire-attack": 0.4}),
    (60, 74, {"indirect-fire-attack": 3.0}),  # a burst: indirect-fire-tempo (rate) fires
    (75, 100, {"indirect-fire-attack": 0.6}),
    (101, 125, {"indirect-fire-attack": 0.0}),  # an ordered pause: attack-lull (absence) fires
    (126, 180, {"indirect-fire-attack": 0.5}),
    (181, 195, {"indirect-fire-attack": 4.0, "direct-fire-attack": 1.0, "coalition-casualties": 1.0,
                "drone-attack": 1.0, "large-salvo": 0.5, "unified-front": 0.5, "new-militia-name": 0.4}),
    (196, 230, {"indirect-fire-attack": 0.0}),  # a second lull after the escalation
    (231, 300, {"indirect-fire-attack": 0.5}),
    (301, 315, {"indirect-fire-attack": 2.5, "drone-attack": 0.5}),
    (316, 366, {"indirect-fire-attack": 0.4}),
]
# ordered pauses: no item of these days may fire these indicators (their examples, other indicators'
# examples that would also fire them and items whose mentions happen to fire them are left out)
QUIET: list[tuple[int, int]] = [(101, 125), (196, 230)]
QUIET_OF = frozenset({"indirect-fire-attack"})
# a leader or group of the proxy network backing one action, a few times a day for a few days
ENDORSEMENTS: list[tuple[int, int, float]] = [(20, 24, 2.0), (150, 153, 2.5), (270, 273, 2.0)]
BACKGROUND = 0.08  # signal items per day for every other indicator with examples
NEW_NAMES_PER_DAY = 0.1
COORDINATION_ROLES = ("proxy-group", "proxy-leader", "umbrella")
_ENDORSE = ["{a} endorsed the march against the U.S. presence planned for Friday.",
            "{a} backed calls for a mass protest demanding the withdrawal of foreign forces.",
            "{a} urged supporters to join the rally against the American occupation.",
            "{a} announced it would take part in the sit-in outside the parliament."]
_NEW_NAME = ["A previously unknown group calling itself {n} claimed responsibility for a rocket attack on a base "
             "hosting U.S. troops.",
             "{n}, a little-known faction, said its fighters carried out the attack on the convoy.",
             "A new militia calling itself {n} threatened U.S. forces in a video released online."]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    k, p, floor = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= floor:
            return k
        k += 1


def _daily_counts(rng: random.Random, n: int, days: int) -> list[int]:
    """Items per day summing to n: weekends lighter, some jitter."""
    weights = [(0.7 if (d % 7) in (5, 6) else 1.0) * rng.uniform(0.8, 1.2) for d in range(days)]
    total = sum(weights)
    counts = [int(n * w / total) for w in weights]
    for i in range(n - sum(counts)):
        counts[i % days] += 1
    return counts


def stream(n: int, library, seed: int = 11, *, start: datetime = datetime(2020, 1, 1, tzinfo=UTC), days: int = 366,
           size: int = 1500, arabic_share: float = 0.1, mention_share: float = 0.3,
           mentions_per_item: int = 3) -> Iterator[dict]:
    """`n` items in time order over `days` days with the episodes above; each a backtest JSON object.

    Most of a real feed is off-topic: only `mention_share` of the items mention library vocabulary
    (1 to `mentions_per_item` words); signals arrive at the daily rates of PHASES, whatever `n` is.
    """
    rng = random.Random(seed)
    w = Writer(rng)
    vocab = library_vocab(library)
    actors = {r: [] for r in COORDINATION_ROLES}
    for ent in library.entities.values():
        for r in ent.roles:
            if r in actors:
                actors[r].append(ent)
    actor_pool = [e for r in COORDINATION_ROLES for e in actors[r] if not has_arabic(e.name)]
    background = {i: BACKGROUND for i in vocab.by_indicator}
    quiet_fires = _quiet_probe(library, start)
    seq = 0
    for day, count in enumerate(_daily_counts(rng, n, days)):
        if not count:
            continue
        rates = dict(background)
        for lo, hi, overrides in PHASES:
            if lo <= day <= hi:
                rates.update(overrides)
        slots: list[list[str]] = [[] for _ in range(count)]
        for ind, lam in sorted(rates.items()):
            texts = vocab.by_indicator.get(ind)
            if ind == "new-militia-name":
                lam += NEW_NAMES_PER_DAY
            for _ in range(_poisson(rng, lam)):
                if ind == "new-militia-name":
                    name = f"{rng.choice(_HEADS)} {_word(rng, _LATIN_SYL).capitalize()} al-" \
                           f"{_word(rng, _LATIN_SYL, 2, 4).capitalize()}"
                    text = rng.choice(_NEW_NAME).format(n=name)
                elif texts:
                    text = rng.choice([t for t in texts if not has_arabic(t)] or texts)
                else:
                    continue
                rng.choice(slots).append(text)
        for lo, hi, lam in ENDORSEMENTS:
            if lo <= day <= hi:
                for _ in range(_poisson(rng, lam)):
                    actor = rng.choice(actor_pool)
                    rng.choice(slots).append(rng.choice(_ENDORSE).format(a=rng.choice(actor.aliases[:3])))
        quiet = any(lo <= day <= hi for lo, hi in QUIET)
        times = sorted(rng.uniform(0, 86_400) for _ in range(count))
        for t, signals in zip(times, slots, strict=True):
            ar = not signals and rng.random() < arabic_share
            pool = vocab.mentions[ar]
            mentions = rng.sample(pool, rng.randint(1, mentions_per_item)) if rng.random() < mention_share else []
            if not signals and vocab.negatives[False] and rng.random() < 0.05:
                signals = [rng.choice(vocab.negatives[False])]
            if quiet:
                signals = [x for x in signals if not quiet_fires({"title": x, "summary": "", "content": ""})]
            seq += 1
            at = start + timedelta(days=day, seconds=t)
            doc = w.item(signals=signals, mentions=mentions, arabic=ar, size=size)
            if quiet and quiet_fires(doc):  # the mentions made it fire: the same item without them
                doc = w.item(signals=signals, arabic=ar, size=size)
            yield {"id": f"bench-{seq:07d}", "published": at.isoformat().replace("+00:00", "Z"),
                   "source": rng.choice(["wire-a", "wire-b", "wire-c", "outlet-ar"] if ar else
                                        ["wire-a", "wire-b", "wire-c"]),
                   "url": f"https://news.example.org/bench/{seq}", "lang": "ar" if ar else "en", **doc}


def _quiet_probe(library, at: datetime):
    """A test of whether an item (alone) would fire one of the QUIET_OF indicators."""
    from app.matching.compiler import CompiledLibrary
    from app.matching.rules import ItemView
    from app.matching.store import MemoryStore

    lib = CompiledLibrary(library)
    rules = [r for r in lib.item_rules if r.id in QUIET_OF]
    seen: dict[tuple[str, str, str], bool] = {}

    def fires(doc: dict) -> bool:
        key = (doc["title"], doc["summary"], doc["content"])
        if key in seen:
            return seen[key]
        view = ItemView("probe", at, lib.scan(*key))
        got = any(r.evaluate(view, MemoryStore()) is not None for r in rules)
        if not key[1] and not key[2]:  # remember single sentences (signals recur), not whole items
            seen[key] = got
        return got

    return fires


def write_stream(path: Path, n: int, library, seed: int = 11, **kw) -> int:
    """Write `n` stream items as sorted JSON Lines; returns the file size in bytes."""
    with path.open("w", encoding="utf-8") as fh:
        for doc in stream(n, library, seed, **kw):
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path.stat().st_size
