"""Event grouping of a story's claims: learned pair probability, average link."""

from __future__ import annotations

import numpy as np

from storyline.compare.facts import (
    EVENT_FEATURES,
    ArticleInput,
    Claim,
    average_link,
    compare_facts,
    content_words,
    event_groups,
    event_pair_features,
    event_pair_probability,
    facts_to_json,
    lead_agreement,
    numbers_in,
)


def _claim(article: str, start: int, text: str = "x") -> Claim:
    return Claim(article_id=article, outlet=article, text=text, start=start,
                 end=start + len(text), numbers=tuple(numbers_in(text)),
                 words=content_words(text))  # fmt: skip


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float64)
    return v / np.linalg.norm(v)


MAIN, SIDE, OTHER = _unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)


def test_lead_agreement_uses_the_other_articles_leads_only() -> None:
    # Article a leads with SIDE; b and c lead with MAIN.  a's own lead must not vote.
    claims = [_claim("a", 0), _claim("a", 10), _claim("b", 0), _claim("c", 0)]
    vectors = np.stack([SIDE, MAIN, MAIN, MAIN])
    agreement = lead_agreement(claims, vectors)
    assert agreement[1] > 0.99  # a's second claim matches what b and c lead with
    assert agreement[0] < 0.01  # a's lead (SIDE) matches no other lead
    assert np.isnan(lead_agreement(claims[:2], vectors[:2])).all()  # one article: no leads


def test_pair_features_cover_cross_article_pairs_only() -> None:
    claims = [_claim("a", 0, "Rebels freed 12 hostages"), _claim("a", 30, "Talks go on"),
              _claim("b", 0, "Rebels freed 12 hostages"), _claim("b", 30, "Rain fell")]  # fmt: skip
    vectors = np.stack([MAIN, SIDE, MAIN, OTHER])
    pairs, features = event_pair_features(claims, vectors)
    assert pairs.tolist() == [[0, 2], [0, 3], [1, 2], [1, 3]]
    assert features.shape == (4, len(EVENT_FEATURES))
    row = dict(zip(EVENT_FEATURES, features[0], strict=True))
    assert row["cosine"] > 0.99 and row["word_jaccard"] == 1.0 and row["numbers_meet"] == 1.0
    assert row["log_rank_max"] == 0.0  # both lead their article
    later = dict(zip(EVENT_FEATURES, features[3], strict=True))
    assert later["log_rank_min"] > 0 and later["numbers_meet"] == 0.0
    # The learned weights rank the copied lead far above two unrelated later claims.
    p = event_pair_probability(features)
    assert p[0] > 0.5 > p[3]


def test_average_link_does_not_chain_through_one_bridge() -> None:
    # 0-1 and 2-3 are strong pairs; claim 1 also looks like 2, but 0-2, 0-3, 1-3 do
    # not: single link would chain all four, average link keeps two groups.
    pairs = np.array([[0, 1], [2, 3], [1, 2], [0, 2], [0, 3], [1, 3]])
    probability = np.array([0.9, 0.9, 0.8, 0.1, 0.1, 0.1])
    assert average_link(4, pairs, probability, 0.5) == [[0, 1], [2, 3]]
    assert average_link(4, pairs, probability, 0.05) == [[0, 1, 2, 3]]
    assert average_link(3, np.zeros((0, 2), dtype=int), np.zeros(0), 0.5) == [[0], [1], [2]]


def test_main_event_is_the_most_widely_reported_group() -> None:
    # Three articles lead with the quake (three claims each), then each adds an
    # unrelated aside: the leads make the main event.  Where the asides go is the
    # learned model's call: fitted on ECB+ (where even sentences with nothing in
    # common are often the sub-topic's one event), it lets a late aside of an article
    # whose lead agrees with the others join the main event; no two asides are
    # linked to each other apart from it.
    claims, rows = [], []
    for article in "abc":
        for k, text in enumerate(["Quake hits the city", "Houses fell in the quake",
                                  "Rescuers search for the quake victims"]):  # fmt: skip
            claims.append(_claim(article, 30 * k, text))
            rows.append(MAIN)
        claims.append(_claim(article, 100, f"A fair opens in town {article}"))
        rows.append(OTHER if article != "b" else SIDE)
    vectors = np.stack(rows)
    main, others = event_groups(claims, lambda _t: vectors)
    assert {0, 1, 2, 4, 5, 6, 8, 9, 10} <= set(main)
    assert all(len(group) == 1 for group in others)
    lone, rest = event_groups(claims[:1], lambda _t: vectors[:1])
    assert lone == [] and rest == [[0]]


def test_facts_carry_their_event() -> None:
    lead = "The minister resigned on Friday after a long dispute over the budget plan."
    a = ArticleInput("a", "Alpha", f"{lead} The harbour flooded on Sunday.")
    b = ArticleInput("b", "Beta", f"{lead} Farmers protested in the capital.")
    vectors = {lead: MAIN, "The harbour flooded on Sunday.": SIDE,
               "Farmers protested in the capital.": OTHER}  # fmt: skip
    facts = facts_to_json(compare_facts([a, b], lambda ts: np.stack([vectors[t] for t in ts])))
    top = facts[0]
    assert top["outlets"] == ["Alpha", "Beta"]
    assert top["main_event"] is True and top["event"] == 0
    assert all(f["main_event"] is False and f["event"] != 0 for f in facts[1:])


def _naive_average_link(
    n: int, probability: dict[tuple[int, int], float], threshold: float
) -> list[list[int]]:
    groups = [[i] for i in range(n)]
    while True:
        best, pick = -1.0, None
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                values = [probability[min(i, j), max(i, j)] for i in groups[x] for j in groups[y]
                          if (min(i, j), max(i, j)) in probability]  # fmt: skip
                if values and sum(values) / len(values) > best:
                    best, pick = sum(values) / len(values), (x, y)
        if pick is None or best < threshold:
            return sorted(sorted(g) for g in groups)
        x, y = pick
        groups[x] += groups.pop(y)


def test_average_link_matches_the_textbook_definition() -> None:
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(2, 14))
        article = rng.integers(0, 4, n)
        pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)
                          if article[i] != article[j]], dtype=int).reshape(-1, 2)  # fmt: skip
        probability = rng.uniform(0, 1, len(pairs))
        threshold = float(rng.uniform(0.2, 0.7))
        expected = _naive_average_link(
            n,
            {(int(i), int(j)): p for (i, j), p in zip(pairs, probability, strict=True)},
            threshold,
        )
        assert sorted(average_link(n, pairs, probability, threshold)) == expected
