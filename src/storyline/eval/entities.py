"""Evaluation of entity mentions and cross-document canonicalisation on MEANTIME.

Gold mentions: MEANTIME entity mentions of persons, organisations and places
(PER, ORG, LOC) written as names: syntactic type NAM / PRE.NAM, or untyped
with a capitalised first letter (MEANTIME leaves the syntactic type empty on
many named mentions). Nominal and pronominal mentions are not NER's job and
are left out.

- mention P/R/F1, exact span and overlapping span (one-to-one, greedy);
- canonicalisation: each topic corpus (30 articles) is treated as one story;
  over pairs of matched mentions in *different* documents, a pair is predicted
  "same" when `canonicalise_story` puts both in one actor, gold "same" when
  they share a MEANTIME cross-document instance id. Pairwise P/R/F1.

Run: `python -m storyline.eval.entities [--limit-topics N]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass

from storyline.eval import DataUnavailable, dataset_path

GOLD_TYPES = frozenset({"PER", "ORG", "LOC"})
NAMED_SYNTAX = frozenset({"NAM", "PRE.NAM"})


@dataclass(slots=True)
class GoldMention:
    doc_id: str
    start: int
    end: int
    instance_id: str | None


def _is_named(mention: dict) -> bool:
    if mention.get("type") not in GOLD_TYPES:
        return False
    syntax = mention.get("syntactic_type")
    if syntax in NAMED_SYNTAX:
        return True
    return not syntax and mention["text"][:1].isupper()


def load_meantime() -> tuple[list[dict], dict[str, list[GoldMention]]]:
    folder = dataset_path("meantime")
    docs_path, entities_path = folder / "docs.jsonl", folder / "entities.jsonl"
    if not docs_path.exists() or not entities_path.exists():
        raise DataUnavailable(f"MEANTIME files not found in {folder}")
    docs = [json.loads(line) for line in docs_path.open(encoding="utf-8")]
    gold: dict[str, list[GoldMention]] = defaultdict(list)
    for line in entities_path.open(encoding="utf-8"):
        mention = json.loads(line)
        if _is_named(mention):
            gold[mention["doc_id"]].append(
                GoldMention(
                    mention["doc_id"], mention["start"], mention["end"], mention.get("instance_id")
                )
            )
    return docs, gold


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"p": p, "r": r, "f1": _f1(p, r)}


def evaluate(
    limit_topics: int | None = None, nlp=None, full_parse: bool = False
) -> dict[str, object]:
    from storyline.analyse.citations import parse_for_people
    from storyline.analyse.entities import doc_entities, story_actor_keys
    from storyline.analyse.nlp import load_nlp

    docs, gold = load_meantime()
    topics = sorted({d["topic"] for d in docs})
    if limit_topics:
        topics = topics[:limit_topics]
    docs = [d for d in docs if d["topic"] in topics]
    nlp = nlp or load_nlp()
    mentions = {
        d["id"]: doc_entities(doc)
        for d, doc in zip(
            docs,
            parse_for_people([d["text"] for d in docs], nlp, full_parse=full_parse, batch_size=16),
            strict=True,
        )
    }
    n_pred = n_gold = exact = overlap = 0
    pair_tp = pair_pred = pair_gold = 0
    for topic in topics:
        topic_docs = [d["id"] for d in docs if d["topic"] == topic]
        keys = story_actor_keys({doc_id: mentions[doc_id] for doc_id in topic_docs})
        matched: list[tuple[str, str, str]] = []  # (doc, predicted actor, gold instance)
        for doc_id in topic_docs:
            pred = mentions[doc_id]
            golds = gold.get(doc_id, [])
            n_pred += len(pred)
            n_gold += len(golds)
            used: set[int] = set()
            for k, mention in enumerate(pred):
                best = None
                for j, g in enumerate(golds):
                    if j in used or not (g.start < mention.end and mention.start < g.end):
                        continue
                    if best is None or (g.start, g.end) == (mention.start, mention.end):
                        best = j
                if best is None:
                    continue
                used.add(best)
                overlap += 1
                g = golds[best]
                if (g.start, g.end) == (mention.start, mention.end):
                    exact += 1
                if g.instance_id:
                    matched.append((doc_id, keys[doc_id][k], g.instance_id))
        for i in range(len(matched)):
            for j in range(i + 1, len(matched)):
                a, b = matched[i], matched[j]
                if a[0] == b[0]:
                    continue
                same_pred, same_gold = a[1] == b[1], a[2] == b[2]
                pair_pred += same_pred
                pair_gold += same_gold
                pair_tp += same_pred and same_gold
    return {
        "documents": len(docs),
        "mention_exact": _prf(exact, n_pred, n_gold),
        "mention_overlap": _prf(overlap, n_pred, n_gold),
        "cross_document_pairs": _prf(pair_tp, pair_pred, pair_gold),
        "pred_mentions": n_pred,
        "gold_mentions": n_gold,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storyline eval entities")
    parser.add_argument("--limit-topics", type=int, default=None)
    parser.add_argument(
        "--full-parse",
        action="store_true",
        help="parse every sentence (default: as the analysis stage does)",
    )
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.limit_topics, full_parse=args.full_parse)
    except DataUnavailable as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 2
    print(
        f"MEANTIME: {result['documents']} documents, {result['pred_mentions']} predicted / "
        f"{result['gold_mentions']} gold named PER/ORG/LOC mentions"
    )
    for label in ("mention_exact", "mention_overlap", "cross_document_pairs"):
        f = result[label]
        assert isinstance(f, dict)
        print(f"{label:<22} P {f['p']:.3f}  R {f['r']:.3f}  F1 {f['f1']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
