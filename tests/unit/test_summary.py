from storyline.compare.facts import Claim, FactGroup, content_words
from storyline.compare.summary import summarise


def _group(
    texts_outlets: list[tuple[str, str, int]],
    dates: tuple[str, ...] = (),
    status: str = "corroborated",
) -> FactGroup:
    claims = [
        Claim(
            article_id=o,
            outlet=o,
            text=t,
            start=pos,
            end=pos + len(t),
            dates=dates,
            words=content_words(t),
        )
        for t, o, pos in texts_outlets
    ]
    return FactGroup(claims, status=status, independent_sources=len(claims))


def test_summary_is_supported_and_bounded() -> None:
    groups = [
        _group(
            [("The bridge collapsed on Monday.", "A", 0), ("A bridge fell on Monday.", "B", 0)],
            dates=("2024-01-01",),
        ),
        _group(
            [
                ("Rescue teams searched the river, the mayor said.", "A", 40),
                ("Divers searched the river.", "B", 30),
            ]
        ),
        _group([("Traffic was diverted through the old town.", "A", 90)], status="single_source"),
        _group(
            [("Ten people died.", "A", 120), ("Twelve people died.", "B", 100)],
            status="conflicting",
        ),
        _group(
            [("Repairs will start in March.", "B", 60)], dates=("2024-03",), status="single_source"
        ),
    ]
    lengths = {"A": 200, "B": 200}
    out = summarise(groups, lengths)
    assert 3 <= len(out) <= 6
    texts = [s["text"] for s in out]
    assert texts[0] == "The bridge collapsed on Monday."  # main event first
    assert "Ten people died." not in texts and "Twelve people died." not in texts
    for s in out:
        assert s["outlets"]
    assert {"A", "B"} == set(out[0]["outlets"])


def test_empty() -> None:
    assert summarise([], {}) == []
