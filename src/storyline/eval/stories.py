"""Story clustering evaluation: ECB+ sub-topics, NewsWCL50 events, SemEval-2022 Task 8 pairs.

`main()` prints, for our online linker and three baselines on the same data:
BCubed P/R/F1, pairwise P/R/F1 and ARI (ECB+, NewsWCL50), and the Pearson
correlation of the story-similarity score with the gold Overall score
(SemEval, per language pair).

Protocol (ECB+): topics are split into folds; the linker's weights and
threshold, and every baseline's threshold, are learned on the other folds and
measured on the held-out fold (reported: held-out figures over all folds).
ECB+ documents carry no dates, so they arrive in a seeded random order.
NewsWCL50 and SemEval are measured with the model learned on all ECB+ topics
(they are never trained on).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from storyline.eval import DataUnavailable, dataset_path
from storyline.eval.metrics import adjusted_rand_index, bcubed, pairwise, pearson
from storyline.link.cluster import (
    DEFAULT_BIAS,
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_SPLIT_THRESHOLD,
    DEFAULT_THRESHOLD,
    DEFAULT_WEIGHTS,
    FEATURE_NAMES,
    InMemoryStories,
    OnlineClusterer,
    article_features,
    embedding_text,
    fit_logistic,
    fit_ridge,
    gold_training_pairs,
)
from storyline.link.embed import Embedder, load_embedder

CACHE_ENV = "STORYLINE_EMBED_CACHE"
THRESHOLD_GRID = [round(0.05 * i, 2) for i in range(1, 13)]
# Above 1 = no merging: the search may find that merging does not pay.
MERGE_GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.01]
# 0 = no splitting (first, so that it wins ties: a split must pay to be kept).
SPLIT_GRID = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
FOLDS = 3
SIMILARITY_L2 = 1.0


@dataclass(slots=True)
class EvalDoc:
    id: str
    gold: str  # the true story
    group: str  # unit of cross-validation (ECB+ topic)
    title: str
    body: str
    published: str | None = None
    language: str | None = None
    features: dict[str, Any] = field(default_factory=dict)
    embedding: np.ndarray | None = None


@dataclass(slots=True)
class EvalPair:
    id: str
    lang: str
    overall: float  # 1 = very similar .. 4 = very dissimilar
    first: EvalDoc
    second: EvalDoc


# -- data ---------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _split_title(text: str) -> tuple[str, str]:
    lines = [ln for ln in text.split("\n") if ln.strip()]
    # ECB+ keeps the page URL as its first line; a real pipeline has it apart.
    if lines and lines[0].lower().startswith("http"):
        lines = lines[1:]
    if not lines:
        return "", ""
    return lines[0], "\n\n".join(lines[1:])


def load_ecbplus() -> list[EvalDoc]:
    rows = _read_jsonl(dataset_path("ecbplus") / "docs.jsonl")
    docs = []
    for row in rows:
        title, body = _split_title(row["text"])
        docs.append(
            EvalDoc(
                id=row["id"],
                gold=row["subtopic"],
                group=row["topic"],
                title=title,
                body=body,
                language="en",
            )
        )
    return docs


def load_newswcl50() -> list[EvalDoc]:
    rows = _read_jsonl(dataset_path("newswcl50") / "articles.jsonl")
    docs = []
    for row in rows:
        title = row.get("title") or ""
        text = row["text"]
        body = text[len(title) :].strip() if title and text.startswith(title) else text
        docs.append(
            EvalDoc(
                id=row["id"],
                gold=row["event_id"],
                group=row["event_id"],
                title=title,
                body=body.replace("\n", "\n\n"),
                published=row.get("date"),
                language="en",
            )
        )
    return docs


def load_semeval() -> list[EvalPair]:
    rows = _read_jsonl(dataset_path("semeval2022") / "pairs.jsonl")
    pairs = []
    for row in rows:
        one, two = row["pair_id"].split("_", 1)
        docs = []
        for key, lang, doc_id in (("text1", row["lang1"], one), ("text2", row["lang2"], two)):
            docs.append(
                EvalDoc(
                    id=doc_id,
                    gold=doc_id,
                    group=row["pair_id"],
                    title="",
                    body=row[key].strip(),
                    language=lang,
                )
            )
        pairs.append(
            EvalPair(
                id=row["pair_id"],
                lang=f"{row['lang1']}-{row['lang2']}",
                overall=float(row["overall"]),
                first=docs[0],
                second=docs[1],
            )
        )
    return pairs


# -- embeddings, cached on disk while iterating --------------------------------------
def embed_cached(embedder: Embedder, texts: Sequence[str], cache_dir: Path | None) -> np.ndarray:
    """Embeddings of `texts`; with a cache folder, each text is embedded once across runs."""
    if cache_dir is None:
        return embedder.embed(list(texts))
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{embedder.name}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            cached = {k: data[k] for k in data.files}
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cached}.items())
    if missing:
        vectors = embedder.embed([t for _, t in missing])
        for (key, _), vector in zip(missing, vectors, strict=True):
            cached[key] = vector
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **cached)  # type: ignore[arg-type]
        tmp.replace(path)
    return np.stack([cached[k] for k in keys]).astype(np.float32)


def attach_features(docs: Sequence[EvalDoc], embedder: Embedder, cache_dir: Path | None) -> None:
    texts = [embedding_text(d.title, d.body) for d in docs]
    vectors = embed_cached(embedder, texts, cache_dir)
    for doc, vector in zip(docs, vectors, strict=True):
        doc.embedding = vector
        doc.features = article_features(
            doc.title, doc.body, doc.published, doc.language, embedder, embedding=vector
        )


# -- our linker ------------------------------------------------------------------------
@dataclass(slots=True)
class LinkerParams:
    weights: dict[str, float]
    bias: float
    threshold: float
    merge_threshold: float = 1.01  # above 1: stories never merge
    split_threshold: float = 0.0  # 0: stories never split

    def clusterer(self) -> OnlineClusterer:
        return OnlineClusterer(
            weights=self.weights,
            bias=self.bias,
            threshold=self.threshold,
            merge_threshold=self.merge_threshold,
            split_threshold=self.split_threshold,
        )

    def without_split(self) -> LinkerParams:
        return LinkerParams(
            self.weights, self.bias, self.threshold, self.merge_threshold, split_threshold=0.0
        )


DEFAULT_PARAMS = LinkerParams(
    dict(DEFAULT_WEIGHTS),
    DEFAULT_BIAS,
    DEFAULT_THRESHOLD,
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_SPLIT_THRESHOLD,
)


def arrival_order(docs: Sequence[EvalDoc], seed: int) -> list[EvalDoc]:
    """By date where known (undated documents are shuffled in with a fixed seed)."""
    shuffled = list(docs)
    random.Random(seed).shuffle(shuffled)
    if any(d.published for d in docs):
        dated = sorted((d for d in shuffled if d.published), key=lambda d: d.published or "")
        undated = [d for d in shuffled if not d.published]
        # Undated documents are spread evenly through the dated stream.
        merged: list[EvalDoc] = []
        step = (len(dated) + 1) / (len(undated) + 1) if undated else 0
        positions = {round(step * (i + 1)) for i in range(len(undated))}
        it_undated = iter(undated)
        for i, doc in enumerate(dated):
            while i in positions:
                positions.discard(i)
                merged.append(next(it_undated))
            merged.append(doc)
        merged.extend(it_undated)
        return merged
    return shuffled


def run_linker(docs: Sequence[EvalDoc], params: LinkerParams, seed: int = 0) -> list[str]:
    """Predicted story per document (in the order of `docs`), linking in arrival order."""
    ordered = arrival_order(docs, seed)
    driver = InMemoryStories(params.clusterer(), window_days=7.0)
    result = driver.run([d.features for d in ordered])
    by_id = {d.id: s for d, s in zip(ordered, result.story_ids, strict=True)}
    return [by_id[d.id] for d in docs]


def learn_params(docs: Sequence[EvalDoc], seeds: Sequence[int] = (0, 1)) -> LinkerParams:
    """Logistic weights from gold online replays, then the threshold that maximises BCubed F1."""
    xs, ys = [], []
    for seed in seeds:
        ordered = arrival_order(docs, seed)
        x, y = gold_training_pairs([d.features for d in ordered], [d.gold for d in ordered])
        xs.append(x)
        ys.append(y)
    weights, bias = fit_logistic(np.vstack(xs), np.concatenate(ys), l2=1.0)
    named = {n: float(w) for n, w in zip(FEATURE_NAMES, weights, strict=True)}
    gold = [d.gold for d in docs]

    def f1(params: LinkerParams) -> float:
        return float(np.mean([bcubed(gold, run_linker(docs, params, s)).f1 for s in seeds]))

    # The join threshold without merging, then the merge threshold given it, then the split
    # threshold given both.
    threshold = max(THRESHOLD_GRID, key=lambda t: f1(LinkerParams(named, bias, t)))
    merge = max(MERGE_GRID, key=lambda m: f1(LinkerParams(named, bias, threshold, m)))
    split = max(SPLIT_GRID, key=lambda x: f1(LinkerParams(named, bias, threshold, merge, x)))
    return LinkerParams(named, bias, threshold, merge, split)


# -- baselines ---------------------------------------------------------------------------
def _tfidf_matrix(docs: Sequence[EvalDoc]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [embedding_text(d.title, d.body) for d in docs]
    return TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1).fit_transform(texts)


def agglomerative_tfidf(docs: Sequence[EvalDoc], threshold: float) -> list[str]:
    from sklearn.cluster import AgglomerativeClustering

    matrix = _tfidf_matrix(docs).toarray()
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    )
    return [str(label) for label in model.fit_predict(matrix)]


def hdbscan_embeddings(docs: Sequence[EvalDoc], min_cluster_size: int = 2) -> list[str]:
    """What BERTopic does (without its UMAP step): HDBSCAN on the embeddings; noise = singletons."""
    from sklearn.cluster import HDBSCAN

    vectors = np.stack([d.embedding for d in docs if d.embedding is not None])
    labels = HDBSCAN(min_cluster_size=min_cluster_size, metric="euclidean").fit_predict(vectors)
    return [f"c{label}" if label >= 0 else f"noise{i}" for i, label in enumerate(labels)]


def single_pass_cosine(docs: Sequence[EvalDoc], threshold: float, seed: int = 0) -> list[str]:
    """Each document joins the nearest story centroid if cosine >= threshold, else starts one."""
    ordered = arrival_order(docs, seed)
    sums: list[np.ndarray] = []
    assigned: dict[str, str] = {}
    for doc in ordered:
        vector = doc.embedding
        assert vector is not None
        if sums:
            centroids = np.stack(sums)
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
            similarities = centroids @ vector
            best = int(similarities.argmax())
            if similarities[best] >= threshold:
                sums[best] = sums[best] + vector
                assigned[doc.id] = f"c{best}"
                continue
        sums.append(vector.copy())
        assigned[doc.id] = f"c{len(sums) - 1}"
    return [assigned[d.id] for d in docs]


def tune(
    docs: Sequence[EvalDoc],
    method: Callable[[Sequence[EvalDoc], float], list[str]],
    grid: Sequence[float],
) -> float:
    gold = [d.gold for d in docs]
    scores = [(bcubed(gold, method(docs, t)).f1, t) for t in grid]
    return max(scores)[1]


AGGLO_GRID = [round(0.05 * i, 2) for i in range(6, 20)]
COSINE_GRID = [round(0.05 * i, 2) for i in range(4, 19)]


# -- reporting ----------------------------------------------------------------------------
@dataclass(slots=True)
class Scores:
    method: str
    bcubed_p: float
    bcubed_r: float
    bcubed_f1: float
    pair_p: float
    pair_r: float
    pair_f1: float
    ari: float
    clusters: int
    note: str = ""


def score(method: str, gold: Sequence[str], predicted: Sequence[str], note: str = "") -> Scores:
    b = bcubed(gold, predicted)
    p = pairwise(gold, predicted)
    return Scores(
        method,
        b.precision,
        b.recall,
        b.f1,
        p.precision,
        p.recall,
        p.f1,
        adjusted_rand_index(gold, predicted),
        len(set(predicted)),
        note,
    )


def format_table(title: str, rows: Sequence[Scores]) -> str:
    lines = [
        f"### {title}",
        "",
        "| method | BCubed P | BCubed R | BCubed F1 | pair P | pair R | pair F1 | ARI "
        "| clusters | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.method} | {r.bcubed_p:.3f} | {r.bcubed_r:.3f} | **{r.bcubed_f1:.3f}** | "
            f"{r.pair_p:.3f} | {r.pair_r:.3f} | {r.pair_f1:.3f} | {r.ari:.3f} | {r.clusters} "
            f"| {r.note} |"
        )
    return "\n".join(lines)


def _folds(docs: Sequence[EvalDoc], folds: int) -> list[list[EvalDoc]]:
    groups = sorted({d.group for d in docs}, key=lambda g: int(g) if g.isdigit() else g)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    return [[d for d in docs if fold_of[d.group] == k] for k in range(folds)]


def mean_scores(
    method: str, gold: Sequence[str], runs: Sequence[Sequence[str]], note: str
) -> Scores:
    """Scores averaged over several arrival orders (the note gives the BCubed F1 range)."""
    each = [score(method, gold, labels, note) for labels in runs]
    if len(each) == 1:
        return each[0]
    fields = ["bcubed_p", "bcubed_r", "bcubed_f1", "pair_p", "pair_r", "pair_f1", "ari", "clusters"]
    means = {f: float(np.mean([getattr(e, f) for e in each])) for f in fields}
    f1s = [e.bcubed_f1 for e in each]
    return Scores(
        method,
        means["bcubed_p"],
        means["bcubed_r"],
        means["bcubed_f1"],
        means["pair_p"],
        means["pair_r"],
        means["pair_f1"],
        means["ari"],
        round(means["clusters"]),
        note=f"{note}; mean of {len(each)} arrival orders, F1 {min(f1s):.3f}-{max(f1s):.3f}",
    )


def evaluate_clustering_cv(
    docs: Sequence[EvalDoc],
    folds: int = FOLDS,
    seeds: Sequence[int] = (0, 1, 2),
    log: Callable[[str], None] = print,
) -> tuple[list[Scores], list[LinkerParams]]:
    """Held-out figures: every fold is clustered with parameters learned on the other folds.

    Order-dependent methods (ours, single-pass) are run in several arrival orders.
    """
    parts = _folds(docs, folds)
    predictions: dict[str, list[dict[str, str]]] = defaultdict(lambda: [{} for _ in seeds])
    learned: list[LinkerParams] = []
    for k, test in enumerate(parts):
        train = [d for j, part in enumerate(parts) if j != k for d in part]
        started = time.perf_counter()
        params = learn_params(train)
        learned.append(params)
        agglo_t = tune(train, agglomerative_tfidf, AGGLO_GRID)
        cosine_t = tune(train, single_pass_cosine, COSINE_GRID)
        agglo = agglomerative_tfidf(test, agglo_t)
        hdb = hdbscan_embeddings(test)
        for n, seed in enumerate(seeds):
            runs = {
                "ours (online linker)": run_linker(test, params, seed),
                "ours without splitting": run_linker(test, params.without_split(), seed),
                "TF-IDF + agglomerative (avg)": agglo,
                "embeddings + HDBSCAN": hdb,
                "single-pass cosine": single_pass_cosine(test, cosine_t, seed),
            }
            for method, labels in runs.items():
                for doc, label in zip(test, labels, strict=True):
                    predictions[method][n][doc.id] = f"{k}:{label}"
        log(
            f"fold {k}: {len(test)} docs, threshold ours={params.threshold} "
            f"merge={params.merge_threshold} split={params.split_threshold or 'off'} "
            f"agglo={agglo_t} cosine={cosine_t} ({time.perf_counter() - started:.1f}s)"
        )
    gold = [d.gold for d in docs]
    rows = []
    for method, per_seed in predictions.items():
        order_free = method in ("TF-IDF + agglomerative (avg)", "embeddings + HDBSCAN")
        per_order = [[p[d.id] for d in docs] for p in (per_seed[:1] if order_free else per_seed)]
        rows.append(mean_scores(method, gold, per_order, "held-out"))
    return rows, learned


def evaluate_transfer(
    docs: Sequence[EvalDoc], params: LinkerParams, agglo_t: float, cosine_t: float
) -> list[Scores]:
    gold = [d.gold for d in docs]
    seeds = (0, 1, 2)
    return [
        mean_scores(
            "ours (online linker)",
            gold,
            [run_linker(docs, params, s) for s in seeds],
            "params from ECB+",
        ),
        mean_scores(
            "ours without splitting",
            gold,
            [run_linker(docs, params.without_split(), s) for s in seeds],
            "params from ECB+",
        ),
        score(
            "TF-IDF + agglomerative (avg)",
            gold,
            agglomerative_tfidf(docs, agglo_t),
            f"t={agglo_t} from ECB+",
        ),
        score("embeddings + HDBSCAN", gold, hdbscan_embeddings(docs), "min_cluster_size=2"),
        score(
            "single-pass cosine",
            gold,
            single_pass_cosine(docs, cosine_t),
            f"t={cosine_t} from ECB+",
        ),
    ]


def semeval_design(
    pairs: Sequence[EvalPair], clusterer: OnlineClusterer
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric pair vectors and negated gold ratings (higher = more similar)."""
    for pair in pairs:  # IDF of the stream: every text of the set
        clusterer.observe(pair.first.features)
        clusterer.observe(pair.second.features)
    x = np.vstack([clusterer.pair_features(p.first.features, p.second.features) for p in pairs])
    return x, np.array([-p.overall for p in pairs])


# Graded relatedness of two ECB+ documents, the target of the similarity regression:
# the same event, another event of the same kind (the topic's other sub-topic), unrelated.
SAME_EVENT, SAME_TOPIC, UNRELATED = 1.0, 0.5, 0.0


def ecb_similarity_design(
    docs: Sequence[EvalDoc], clusterer: OnlineClusterer, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric pair vectors of ECB+ documents and their graded relatedness.

    Every pair within a topic (same event or look-alike event), and as many
    random pairs across topics (unrelated).
    """
    for doc in docs:
        clusterer.observe(doc.features)
    by_topic: dict[str, list[EvalDoc]] = defaultdict(list)
    for doc in docs:
        by_topic[doc.group].append(doc)
    pairs: list[tuple[EvalDoc, EvalDoc, float]] = []
    for members in by_topic.values():
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                same = first.gold == second.gold
                pairs.append((first, second, SAME_EVENT if same else SAME_TOPIC))
    rng = random.Random(seed)
    within = len(pairs)
    while len(pairs) < 2 * within:
        first, second = rng.sample(list(docs), 2)
        if first.group != second.group:
            pairs.append((first, second, UNRELATED))
    x = np.vstack([clusterer.pair_features(a.features, b.features) for a, b, _ in pairs])
    return x, np.array([target for _, _, target in pairs])


def learn_similarity(docs: Sequence[EvalDoc]) -> tuple[dict[str, float], float]:
    """Similarity weights: ridge regression of ECB+ graded relatedness on the pair vector."""
    x, y = ecb_similarity_design(docs, OnlineClusterer())
    weights, bias = fit_ridge(x, y, l2=SIMILARITY_L2)
    return {n: float(w) for n, w in zip(FEATURE_NAMES, weights, strict=True)}, bias


def fit_on_semeval(pairs: Sequence[EvalPair]) -> tuple[dict[str, float], float]:
    """For reference only: the same regression fitted on SemEval ratings (never shipped)."""
    x, y = semeval_design(pairs, OnlineClusterer())
    weights, bias = fit_ridge(x, y, l2=SIMILARITY_L2)
    return {n: float(w) for n, w in zip(FEATURE_NAMES, weights, strict=True)}, bias


def evaluate_semeval(
    pairs: Sequence[EvalPair],
    params: LinkerParams,
    similarity: tuple[dict[str, float], float],
    folds: int = 5,
) -> str:
    """Pearson r per language pair: our similarity (weights learned on ECB+, SemEval never
    trained on), the same regression fitted on SemEval (k-fold held-out, for reference),
    the linker's probability, plain embedding cosine and TF-IDF cosine."""
    from storyline.link.features import sublinear, weighted_cosine

    clusterer = params.clusterer()
    x, gold_array = semeval_design(pairs, clusterer)
    gold = gold_array.tolist()
    ecb_weights = np.array([similarity[0].get(n, 0.0) for n in FEATURE_NAMES])
    from_ecb = (x @ ecb_weights + similarity[1]).tolist()
    order = np.random.default_rng(0).permutation(len(pairs))
    held_out = np.zeros(len(pairs))
    for part in np.array_split(order, folds):
        train = np.setdiff1d(order, part)
        weights, bias = fit_ridge(x[train], gold_array[train], l2=SIMILARITY_L2)
        held_out[part] = x[part] @ weights + bias
    ours = held_out.tolist()
    linker = [clusterer.pair_score(p.first.features, p.second.features) for p in pairs]
    cosine, tfidf = [], []
    for pair in pairs:
        a, b = pair.first.embedding, pair.second.embedding
        assert a is not None and b is not None
        cosine.append(float(a @ b))
        tfidf.append(
            weighted_cosine(
                sublinear(pair.first.features["terms"]),
                sublinear(pair.second.features["terms"]),
                clusterer.stats,
            )
        )
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        by_lang[pair.lang].append(i)
    cross = [i for i, p in enumerate(pairs) if p.lang.split("-")[0] != p.lang.split("-")[1]]
    groups = [
        ("all", list(range(len(pairs)))),
        ("en-en", by_lang.get("en-en", [])),
        ("non-English or mixed", [i for i, p in enumerate(pairs) if p.lang != "en-en"]),
        ("cross-lingual", cross),
    ]
    groups += [
        (lang, idx)
        for lang, idx in sorted(by_lang.items(), key=lambda kv: -len(kv[1]))
        if lang != "en-en"
    ]
    lines = [
        "### SemEval-2022 Task 8 pairs: Pearson r with -Overall",
        "",
        "| pairs | n | ours: similarity learned on ECB+ | reference: fitted on SemEval "
        f"({folds}-fold held-out) | linker probability (ECB+ params) | embedding cosine "
        "| TF-IDF cosine |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, idx in groups:
        if len(idx) < 3:
            continue
        g = [gold[i] for i in idx]

        def r(values: Sequence[float], idx: Sequence[int] = idx, g: Sequence[float] = g) -> str:
            return f"{pearson([values[i] for i in idx], g):.3f}"

        lines.append(
            f"| {name} | {len(idx)} | **{r(from_ecb)}** | {r(ours)} | {r(linker)} | {r(cosine)} "
            f"| {r(tfidf)} |"
        )
    return "\n".join(lines)


def format_params(params: LinkerParams) -> str:
    weights = ", ".join(f"{k}={v:+.2f}" for k, v in params.weights.items())
    return (
        f"weights: {weights}; bias={params.bias:+.2f}; threshold={params.threshold}; "
        f"merge threshold={params.merge_threshold}; "
        f"split threshold={params.split_threshold or 'off'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storyline eval stories", description=__doc__)
    parser.add_argument("--model", default="default", help="embedding model (default, use, minilm)")
    parser.add_argument(
        "--cache-dir",
        default=os.environ.get(CACHE_ENV),
        help=f"folder for cached embeddings (env {CACHE_ENV}); none = no cache",
    )
    parser.add_argument("--datasets", default="ecbplus,newswcl50,semeval2022")
    parser.add_argument("--folds", type=int, default=FOLDS)
    args = parser.parse_args(argv)
    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    wanted = set(args.datasets.split(","))
    embedder = load_embedder(args.model)
    print(f"## Stories ({embedder.name})\n")
    try:
        ecb = load_ecbplus()
    except DataUnavailable as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 1
    attach_features(ecb, embedder, cache_dir)
    if "ecbplus" in wanted:
        rows, learned = evaluate_clustering_cv(
            ecb, args.folds, log=lambda m: print(m, file=sys.stderr)
        )
        print(
            format_table(
                f"ECB+ topics 1-35, sub-topic level, {len(ecb)} docs, "
                f"{args.folds}-fold cross-validation over topics",
                rows,
            )
        )
        print()
        print(
            "Learned per fold (join / merge / split): "
            + ", ".join(
                f"{p.threshold} / {p.merge_threshold} / {p.split_threshold or 'off'}"
                for p in learned
            )
        )
        print()
    full = learn_params(ecb)
    agglo_t = tune(ecb, agglomerative_tfidf, AGGLO_GRID)
    cosine_t = tune(ecb, single_pass_cosine, COSINE_GRID)
    print(f"Parameters learned on all ECB+ topics: {format_params(full)}\n")
    if "newswcl50" in wanted:
        try:
            wcl = load_newswcl50()
            attach_features(wcl, embedder, cache_dir)
            print(
                format_table(
                    "NewsWCL50, 50 articles, 10 events",
                    evaluate_transfer(wcl, full, agglo_t, cosine_t),
                )
            )
            print()
        except DataUnavailable as exc:
            print(f"NewsWCL50 skipped: {exc}\n")
    if "semeval2022" in wanted:
        try:
            pairs = load_semeval()
            attach_features([d for p in pairs for d in (p.first, p.second)], embedder, cache_dir)
            print(evaluate_semeval(pairs, full, learn_similarity(ecb)))
            print()
        except DataUnavailable as exc:
            print(f"SemEval skipped: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
