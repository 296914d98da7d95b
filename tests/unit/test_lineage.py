from storyline.compare.lineage import article_lineage


def test_agency_share_and_own_text() -> None:
    body = "A" * 60 + "B" * 40
    passages = [
        {"start": 0, "end": 30, "with_article_id": "x", "text": "A" * 30},
        {"start": 20, "end": 60, "with_article_id": "x", "text": "A" * 40},  # overlaps
        {"start": 60, "end": 70, "with_article_id": "y", "text": "B" * 10},
    ]
    out = article_lineage(body, ["AFP"], passages, {"x": ["AFP", "Reuters"], "y": ["DPA"]})
    by_kind = {(e["kind"], e["agency"]): e for e in out}
    assert by_kind[("agency", "AFP")]["share"] == 0.6
    assert len(by_kind[("agency", "AFP")]["passages"]) == 2
    assert by_kind[("uncredited", None)]["share"] == 0.1
    assert by_kind[("own", None)]["share"] == 0.3
    assert out[-1]["kind"] == "own"


def test_no_shared_copy_is_all_own() -> None:
    assert article_lineage("Some text.", [], [], {}) == [
        {"agency": None, "kind": "own", "share": 1.0, "passages": []}
    ]
