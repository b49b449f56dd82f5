"""Geometry and evaluation metrics, on numpy arrays (computed in float64).

References:
    Wang and Isola 2020, "Understanding Contrastive Representation Learning through
    Alignment and Uniformity on the Hypersphere" (alignment, uniformity).
    Wang and Liu 2021, "Understanding the Behaviour of Contrastive Loss" (hardness:
    the relative penalty r_ij on each negative, a Boltzmann distribution over s/t).
    Ethayarajh 2019 (anisotropy: mean cosine of random pairs).
    SentEval / SimCSE evaluation: cosine similarity, Spearman x 100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .data import StsPairs
    from .model import SentenceEncoder


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit norm (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


# --------------------------------------------------------------------- geometry
def alignment(x: np.ndarray, y: np.ndarray, alpha: float = 2.0) -> float:
    """Mean ||f(x_i) - f(y_i)||^alpha over positive pairs (rows of x, y: (N, D)),
    on L2-normalised rows. For alpha=2: 2 - 2 * mean positive cosine. Lower is better."""
    x, y = l2_normalize(x), l2_normalize(y)
    return float(np.mean(np.linalg.norm(x - y, axis=1) ** alpha))


def uniformity(x: np.ndarray, t: float = 2.0) -> float:
    """log mean over pairs i<j of exp(-t ||x_i - x_j||^2), on normalised rows (N, D).
    0 when all points coincide; about -2t = -4 when spread uniformly in high dimension."""
    x = l2_normalize(x)
    n = x.shape[0]
    if n < 2:
        return float("nan")
    sq = np.clip(2.0 - 2.0 * (x @ x.T), 0.0, 4.0)  # (N, N) squared distances on the sphere
    iu = np.triu_indices(n, k=1)
    v = -t * sq[iu]
    m = v.max()
    return float(m + np.log(np.mean(np.exp(v - m))))


def anisotropy(x: np.ndarray, n_pairs: int = 20000, seed: int = 0) -> float:
    """Mean cosine of random pairs of distinct rows: 0 for an isotropic space, near 1
    when every embedding points the same way (a collapsed cone)."""
    x = l2_normalize(x)
    n = x.shape[0]
    if n < 2:
        return float("nan")
    if n * (n - 1) // 2 <= n_pairs:
        g = x @ x.T
        return float(g[np.triu_indices(n, k=1)].mean())
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, n_pairs)
    j = (i + rng.integers(1, n, n_pairs)) % n  # j != i
    return float(np.einsum("ij,ij->i", x[i], x[j]).mean())


def group_retrieval(x: np.ndarray, groups: Sequence[str], texts: Sequence[str] | None = None,
                    max_queries: int = 2000, chunk: int = 512) -> dict[str, float]:
    """Paraphrase retrieval over labelled groups: for each sentence that has group-mates
    (same non-empty ``groups`` label), rank every other sentence by cosine and ask where
    its first group-mate comes.

    Returns ``recall_at_1`` (share of queries whose nearest neighbour is a group-mate),
    ``mrr`` (mean of 1 / rank of the first group-mate) and ``n_queries``. Near-duplicates
    of the query (equal after :func:`~simcse_core.data.normalize_text`, when ``texts`` is
    given) are left out of both its candidates and its group-mates: finding a copy is not
    finding a paraphrase. At most ``max_queries`` queries (an even subsample), each
    against all rows. NaN when no sentence has a group-mate.

    Args:
        x: (N, D) embeddings (normalised here, float64).
        groups: (N,) group labels; "" means no group.
    """
    from .data import normalize_text

    n = x.shape[0]
    if n != len(groups):
        raise ValueError(f"{n} embeddings but {len(groups)} group labels")
    names, g = np.unique(np.asarray([str(v) for v in groups]), return_inverse=True)  # integer codes
    labelled = names[g] != ""
    keys = None
    if texts is not None:
        keys = np.unique(np.asarray([normalize_text(t) for t in texts]), return_inverse=True)[1]
    queries = []
    for i in np.flatnonzero(labelled):
        mates = (g == g[i]) & (np.arange(n) != i)
        if keys is not None:
            mates &= keys != keys[i]
        if mates.any():
            queries.append(i)
    if not queries:
        return {"recall_at_1": float("nan"), "mrr": float("nan"), "n_queries": 0.0}
    q = np.asarray(queries)
    if len(q) > max_queries:
        q = q[np.linspace(0, len(q) - 1, max_queries).round().astype(int)]
    xn = l2_normalize(np.asarray(x, dtype=np.float64))
    hits, rr = 0, 0.0
    for s in range(0, len(q), chunk):
        rows = q[s : s + chunk]
        sim = xn[rows] @ xn.T  # (c, N)
        for r, i in enumerate(rows):
            excluded = np.zeros(n, dtype=bool)
            excluded[i] = True
            if keys is not None:
                excluded |= keys == keys[i]
            mates = (g == g[i]) & ~excluded
            cand = sim[r].copy()
            cand[excluded] = -np.inf
            best_mate = cand[mates].max()
            rank = 1 + int((cand > best_mate).sum())  # ties count in the query's favour
            hits += rank == 1
            rr += 1.0 / rank
    return {"recall_at_1": hits / len(q), "mrr": rr / len(q), "n_queries": float(len(q))}


def singular_spectrum(x: np.ndarray) -> np.ndarray:
    """Singular values of the centred embeddings, divided by the largest (descending)."""
    x = np.asarray(x, dtype=np.float64)
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    return s / s[0] if s.size and s[0] > 0 else s


# ------------------------------------------------------------ in-batch statistics
def top1_accuracy(sim: np.ndarray) -> float:
    """Share of anchors i whose positive (column i) is the most similar. sim: (N, N)."""
    sim = np.asarray(sim)
    return float(np.mean(sim.argmax(1) == np.arange(sim.shape[0])))


def cosine_stats(sim: np.ndarray) -> dict[str, float]:
    """Positive (diagonal) and negative (off-diagonal) cosine statistics of an N x N
    cross-view similarity matrix: mean, p95 and max of each."""
    sim = np.asarray(sim, dtype=np.float64)
    n = sim.shape[0]
    pos = np.diag(sim)
    neg = sim[~np.eye(n, dtype=bool)]
    return {
        "pos_cos_mean": float(pos.mean()),
        "pos_cos_p95": float(np.percentile(pos, 95)),
        "pos_cos_max": float(pos.max()),
        "neg_cos_mean": float(neg.mean()) if neg.size else float("nan"),
        "neg_cos_p95": float(np.percentile(neg, 95)) if neg.size else float("nan"),
        "neg_cos_max": float(neg.max()) if neg.size else float("nan"),
    }


@dataclass
class Hardness:
    """Per-anchor hardness of an N x N similarity matrix at one temperature.

    weights: (N, N) r_ij = exp(s_ij/t) / sum_{k neg} exp(s_ik/t); 0 on the diagonal
    (the positive) and on masked pairs; each row sums to 1.
    entropy: (N,) H_i = -sum_j r_ij log r_ij; effective: (N,) exp(H_i).
    top1, top5: (N,) share of r on the hardest 1 / 5 negatives.
    p_pos: (N,) P_ii, the softmax probability of the positive among all candidates.
    pos_grad: (N,) (1 - P_ii) / t, the magnitude of dL/ds_ii.
    loss: (N,) -log P_ii.
    """

    weights: np.ndarray
    entropy: np.ndarray
    effective: np.ndarray
    top1: np.ndarray
    top5: np.ndarray
    p_pos: np.ndarray
    pos_grad: np.ndarray
    loss: np.ndarray
    temperature: float


def hardness_weights(sim: np.ndarray, temperature: float, fn_mask: np.ndarray | None = None) -> Hardness:
    """Wang and Liu 2021's relative penalty on each negative, with entropy and the
    effective number of negatives. ``sim``: (N, N) cosines, positives on the diagonal
    (the simcse layout). ``fn_mask``: optional (N, N) bool of pairs left out.
    t -> 0 puts all weight on the hardest negative; t -> inf weighs negatives equally."""
    s = np.asarray(sim, dtype=np.float64)
    n = s.shape[0]
    logits = s / float(temperature)  # (N, N)
    neg = ~np.eye(n, dtype=bool)
    if fn_mask is not None:
        neg &= ~np.asarray(fn_mask, dtype=bool)
    masked = np.where(neg, logits, -np.inf)  # negatives only
    m = masked.max(1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.where(neg, np.exp(masked - m), 0.0)
    z = e.sum(1, keepdims=True)
    r = np.divide(e, z, out=np.zeros_like(e), where=z > 0)  # (N, N)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(r > 0, r * np.log(r), 0.0), axis=1)
    k5 = min(5, n)
    top = -np.partition(-r, k5 - 1, axis=1)[:, :k5] if n > 1 else r[:, :1]  # the 5 largest, unordered
    # P_ii over the positive and the (unmasked) negatives, in log space, reusing the
    # negatives' shifted sum: log(e^pos + z e^m) = M + log(e^(pos-M) + z e^(m-M)), M = max(pos, m)
    pos_logit = np.diag(logits)
    m0, z0 = m[:, 0], z[:, 0]
    big = np.maximum(pos_logit, m0)
    log_p = pos_logit - (big + np.log(np.exp(pos_logit - big) + z0 * np.exp(m0 - big)))
    p_pos = np.exp(log_p)
    return Hardness(
        weights=r,
        entropy=ent,
        effective=np.exp(ent),
        top1=top.max(1),
        top5=top.sum(1),
        p_pos=p_pos,
        pos_grad=(1.0 - p_pos) / float(temperature),
        loss=-log_p,
        temperature=float(temperature),
    )


def batch_metrics(sim: np.ndarray, temperature: float) -> dict[str, float]:
    """Everything a snapshot reports about the last batch's N x N cosine matrix."""
    h = hardness_weights(sim, temperature)
    out = {"top1_acc": top1_accuracy(sim), **cosine_stats(sim)}
    out["hardness_entropy"] = float(h.entropy.mean())
    out["effective_negatives"] = float(h.effective.mean())
    out["top1_weight"] = float(h.top1.mean())
    return out


@dataclass(frozen=True)
class TripletVsInfoNCE:
    """One anchor's triplet loss on its hardest negative beside its InfoNCE loss.

    ``triplet`` = max(0, margin + s_hard - s_pos); ``infonce`` = -log softmax(s/t)[pos]
    (the positive and every negative in the denominator); ``scaled`` = t * infonce;
    ``limit`` = max(0, s_hard - s_pos), what ``scaled`` tends to as t -> 0 (the
    margin-0 hinge). 0 <= scaled - limit <= t log N for a row of N similarities.
    """

    triplet: float
    infonce: float
    scaled: float
    limit: float
    positive: float  # s_pos
    hardest: float  # s_hard, the largest negative similarity
    hardest_index: int  # its index in the row
    temperature: float
    margin: float


def triplet_vs_infonce(sims_row: np.ndarray | Sequence[float], pos_index: int, temperature: float,
                       margin: float = 0.0) -> TripletVsInfoNCE:
    """Metric learning against contrastive learning for one anchor (float64).

    ``sims_row``: (N,) similarities of the anchor to its positive (at ``pos_index``) and
    its N - 1 negatives. The triplet loss looks at one negative, the hardest, with a
    ``margin``; InfoNCE at temperature t weighs all of them. As t -> 0,
    t * InfoNCE = t log sum_j exp(s_j / t) - s_pos -> max_j s_j - s_pos (the positive is
    in the sum) = max(0, s_hard - s_pos): the triplet loss with margin 0 (Wang and Liu
    2021; the 1/t in front of the hinge is why the raw InfoNCE value grows as t falls).
    """
    s = np.asarray(sims_row, dtype=np.float64).ravel()  # (N,)
    n = s.shape[0]
    if n < 2:
        raise ValueError(f"sims_row: the positive and at least one negative (got {n} similarities)")
    if not 0 <= pos_index < n:
        raise IndexError(f"pos_index {pos_index} out of range for {n} similarities")
    t = float(temperature)
    if not t > 0:
        raise ValueError(f"temperature: must be > 0 (got {temperature})")
    neg = np.delete(np.arange(n), pos_index)  # (N - 1,)
    h = int(neg[np.argmax(s[neg])])
    s_pos, s_hard = float(s[pos_index]), float(s[h])
    top = float(s.max())
    log_sum = float(np.log(np.exp((s - top) / t).sum()))  # in [0, log N]
    scaled = (top - s_pos) + t * log_sum  # t * InfoNCE, without the large logits' cancellation
    return TripletVsInfoNCE(triplet=max(0.0, float(margin) + s_hard - s_pos), infonce=scaled / t,
                            scaled=scaled, limit=max(0.0, s_hard - s_pos), positive=s_pos,
                            hardest=s_hard, hardest_index=h, temperature=t, margin=float(margin))


# ------------------------------------------------------------------ STS evaluation
def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation x 100 (ties get average ranks)."""
    from scipy.stats import spearmanr

    return float(spearmanr(np.asarray(a, np.float64), np.asarray(b, np.float64)).correlation * 100.0)


def pair_cosines(e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two (N, D) arrays."""
    return np.einsum("ij,ij->i", l2_normalize(e1), l2_normalize(e2))


def evaluate_sts(encoder: SentenceEncoder, pairs: StsPairs, batch_size: int | None = None, max_length: int | None = None) -> dict[str, float]:
    """SentEval's protocol on one set: cosine of the two embeddings, Spearman x 100 with
    the gold scores. Also SimCSE's alignment (pairs with gold > 4) and uniformity (all
    sentences) on the set."""
    sents = list(pairs.sent1) + list(pairs.sent2)
    emb = encoder.encode(sents, batch_size=batch_size, max_length=max_length)
    n = len(pairs.sent1)
    e1, e2 = emb[:n], emb[n:]
    cos = pair_cosines(e1, e2)
    gold = np.asarray(pairs.scores, dtype=np.float64)
    out = {"spearman": spearman(cos, gold), "n": float(n)}
    high = gold > 4.0
    out["alignment"] = alignment(e1[high], e2[high]) if high.any() else float("nan")
    out["uniformity"] = uniformity(np.unique(emb, axis=0)[:4000])
    out["_cos"] = cos  # type: ignore[assignment]
    return out


def evaluate_sts_sets(encoder: SentenceEncoder, sets: Mapping[str, StsPairs], all_setting: bool = True, batch_size: int | None = None) -> dict[str, float]:
    """Spearman x 100 for each named set; with ``all_setting``, also ``"all"``: every
    set's pairs concatenated into one Spearman (SimCSE's setting for STS12-16)."""
    out: dict[str, float] = {}
    cos_all, gold_all = [], []
    for name, pairs in sets.items():
        r = evaluate_sts(encoder, pairs, batch_size=batch_size)
        out[name] = r["spearman"]
        cos_all.append(r["_cos"])  # type: ignore[arg-type]
        gold_all.append(np.asarray(pairs.scores, np.float64))
    if all_setting and len(sets) > 1:
        out["all"] = spearman(np.concatenate(cos_all), np.concatenate(gold_all))
    return out
