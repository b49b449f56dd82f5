"""Clusters of a corpus's embeddings and keyword labels for them (explore mode, issue 16).

Two ways to cluster, the person's choice:

- :func:`kmeans_clusters`: k-means on the (L2-normalised) embeddings, every sentence in
  one of ``k`` clusters (mini-batch k-means above :data:`MINIBATCH_ABOVE` rows, so a
  million rows take seconds, not minutes);
- :func:`density_clusters`: HDBSCAN on a 2D layout (the UMAP map): clusters of any
  number and shape where the map is dense, ``-1`` for the scattered rest.

Labels (:func:`keyword_labels`) are class-based TF-IDF (Grootendorst 2022, BERTopic's
c-TF-IDF): all sentences of a cluster are one document; a term's weight in cluster c is
``tf(t, c) * log(1 + A / f(t))``, ``tf`` its count in c over c's term count, ``f(t)`` its
count over every cluster and ``A`` the mean number of terms per cluster, so a term common
in one cluster and rare elsewhere ranks first. Terms are lowercase words without a short
list of English function words; Chinese, Japanese and Korean runs (no spaces between
words) are cut into overlapping character pairs, which catch most two-character words
without a segmenter.

No Qt; plain numpy in and out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

MINIBATCH_ABOVE = 50_000  # rows from which k-means runs in mini-batches

# English function words and very common verbs: never a cluster's label (written here)
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during
each even ever every few for from further get gets got had hadn't has hasn't have haven't having he he'd
he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
it it's its itself just let's like made make makes many may me more most much must mustn't my myself never
new no nor not now of off often on once one only or other ought our ours ourselves out over own per quite
rather really said same say says shan't she she'd she'll she's should shouldn't since so some still such
than that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through thus to too two under until up upon us used very was wasn't we we'd we'll we're
we've were weren't what what's when when's where where's whether which while who who's whom whose why
why's will with won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
""".split())

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W\d_](?:[^\W_{_CJK}]|['’](?=[^\W\d_]))*", re.UNICODE)
_CJK_RUN = re.compile(rf"[{_CJK}]+")


def terms(text: str, min_len: int = 3) -> list[str]:
    """A sentence's terms: lowercase words of at least ``min_len`` letters that are not in
    :data:`STOP_WORDS`, and the overlapping character pairs of each CJK run (a lone
    CJK character stays itself)."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if _CJK_RUN.fullmatch(tok):
            out += [tok] if len(tok) == 1 else [tok[i:i + 2] for i in range(len(tok) - 1)]
        else:
            tok = tok.replace("’", "'")
            if tok.endswith("'s"):
                tok = tok[:-2]
            if len(tok) >= min_len and tok not in STOP_WORDS:
                out.append(tok)
    return out


def keyword_labels(texts: Sequence[str], labels: Sequence[int] | np.ndarray, top: int = 3,
                   ignore: Iterable[int] = (-1,)) -> dict[int, list[tuple[str, float]]]:
    """For each cluster id in ``labels`` (except those in ``ignore``: HDBSCAN's noise),
    its ``top`` terms by class-based TF-IDF with their weights, best first (see the
    module note). A cluster with no terms gets an empty list."""
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts for {len(labels)} labels")
    skip = set(int(v) for v in ignore)
    counts: dict[int, Counter[str]] = {}
    for text, c in zip(texts, labels.tolist()):
        if c in skip:
            continue
        counts.setdefault(int(c), Counter()).update(terms(text))
    if not counts:
        return {}
    total: Counter[str] = Counter()
    for cnt in counts.values():
        total.update(cnt)
    mean_terms = sum(total.values()) / len(counts)  # A
    out: dict[int, list[tuple[str, float]]] = {}
    for c, cnt in sorted(counts.items()):
        size = sum(cnt.values())
        scored = [(t, (n / size) * math.log(1.0 + mean_terms / total[t])) for t, n in cnt.items()] if size else []
        scored.sort(key=lambda tw: (-tw[1], tw[0]))
        out[c] = [(t, float(w)) for t, w in scored[:top]]
    return out


def label_text(words: Sequence[tuple[str, float]] | Sequence[str], sep: str = " · ") -> str:
    """A cluster's label as shown on the map: its terms joined (``music · guitar · band``)."""
    return sep.join(w[0] if isinstance(w, tuple) else str(w) for w in words)


def kmeans_clusters(X: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """(N,) int cluster ids 0..k-1 of the rows of ``X`` (N, D) by k-means on the unit
    sphere's chords (rows L2-normalised first, as the cosine neighbours see them)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    if not 1 <= k <= n:
        raise ValueError(f"k = {k}: give 1..{n} clusters for {n} rows")
    U = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    if n > MINIBATCH_ABOVE:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=4096, n_init=3)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=3)
    return model.fit_predict(U).astype(np.int64)


def density_clusters(layout: np.ndarray, min_cluster_size: int = 25) -> np.ndarray:
    """(N,) int cluster ids of the points of a 2D layout (N, 2) by HDBSCAN; ``-1`` marks
    points in no cluster. Ids are renumbered by size, the largest cluster 0."""
    from sklearn.cluster import HDBSCAN

    Y = np.asarray(layout, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] != 2:
        raise ValueError(f"a 2D layout (N, 2) is needed, got {Y.shape}")
    if len(Y) < max(2, min_cluster_size):
        return np.full(len(Y), -1, dtype=np.int64)
    raw = HDBSCAN(min_cluster_size=int(min_cluster_size), copy=True).fit_predict(Y)
    ids, sizes = np.unique(raw[raw >= 0], return_counts=True)
    remap = {int(i): r for r, i in enumerate(ids[np.argsort(-sizes, kind="stable")])}
    return np.array([remap.get(int(v), -1) for v in raw], dtype=np.int64)


def cluster_table(texts: Sequence[str], labels: np.ndarray, top: int = 3, examples: int = 3,
                  X: np.ndarray | None = None) -> list[dict]:
    """One row per cluster, largest first: ``id``, ``size``, ``label`` (its terms),
    ``terms`` (with weights) and ``examples`` (the sentences nearest the cluster's mean
    direction when embeddings ``X`` are given, else its first sentences). Noise (-1) is
    left out."""
    labels = np.asarray(labels)
    words = keyword_labels(texts, labels, top=top)
    rows = []
    for c in words:
        idx = np.flatnonzero(labels == c)
        if X is not None and len(idx):
            V = np.asarray(X[idx], dtype=np.float32)
            centre = V.mean(axis=0)
            pick = idx[np.argsort(-(V @ centre), kind="stable")[:examples]]
        else:
            pick = idx[:examples]
        rows.append({"id": int(c), "size": int(len(idx)), "label": label_text(words[c]), "terms": words[c],
                     "examples": [texts[int(i)] for i in pick]})
    rows.sort(key=lambda r: (-r["size"], r["id"]))
    return rows


__all__ = ["MINIBATCH_ABOVE", "STOP_WORDS", "cluster_table", "density_clusters", "keyword_labels", "kmeans_clusters",
           "label_text", "terms"]
