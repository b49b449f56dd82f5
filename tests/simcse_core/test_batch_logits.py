"""batch_logits (the logits and labels the trainer's loss is the cross-entropy of, and
the batch view draws) against float64 references written here from the formulas; the
batch matrix's numbers; the snapshot's views reproducing the trainer's reported loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import simcse_core.losses.functional as functional
from simcse_core import TrainConfig, batch_logits
from simcse_core.batch_matrix import ATTRACTED, REMOVED, batch_matrix, cluster_order, display_order
from simcse_core.losses import build_loss, info_nce
from simcse_core.runs import RunReader
from simcse_core.trainer import train


def _views(n: int = 6, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z1 = rng.normal(size=(n, d))
    return z1, z1 + 0.4 * rng.normal(size=(n, d)), rng.normal(size=(n, d))


# ------------------------------------------------------------------ references (numpy, float64)
def ref_simcse(z1, z2, t, fn=None, hard=None, hw=0.0):
    """Loops: logit_ij = cos(z1_i, z2_j) / t (hard block cos(z1_i, h_j) / t, + hw on
    i == j); fn[i][j] (i != j) -> -inf; labels i."""
    n = len(z1)
    cols = 2 * n if hard is not None else n
    out = np.empty((n, cols))
    for i in range(n):
        for j in range(cols):
            other = z2[j] if j < n else hard[j - n]
            c = z1[i] @ other / (np.linalg.norm(z1[i]) * np.linalg.norm(other))
            out[i, j] = c / t + (hw if j - n == i else 0.0)
            if j < n and j != i and fn is not None and fn[i][j]:
                out[i, j] = -np.inf
    return out, np.arange(n)


def ref_ntxent(z1, z2, t, fn=None):
    """Rows/columns [a1, a2, b1, b2, ...]: row r is sentence r // 2, view r % 2; the
    diagonal -inf; a sentence-pair mask covers every view of i against every view of j;
    label of row r is its other view, r + 1 for even r, r - 1 for odd r."""
    n = len(z1)
    rows = [(z1 if r % 2 == 0 else z2)[r // 2] for r in range(2 * n)]
    out = np.empty((2 * n, 2 * n))
    labels = np.array([r + 1 if r % 2 == 0 else r - 1 for r in range(2 * n)])
    for r in range(2 * n):
        for c in range(2 * n):
            cos = rows[r] @ rows[c] / (np.linalg.norm(rows[r]) * np.linalg.norm(rows[c]))
            out[r, c] = cos / t
            if r == c or (fn is not None and c != labels[r] and fn[r // 2][c // 2]):
                out[r, c] = -np.inf
    return out, labels


def _same(got, want, tol=1e-6):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    assert np.array_equal(np.isinf(got), np.isinf(want)), "the masks differ"
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=0, atol=tol)


FN = np.zeros((6, 6), dtype=bool)
FN[0, 3] = FN[3, 0] = FN[1, 4] = True  # asymmetric on purpose: one direction of (1, 4)


@pytest.mark.parametrize("t", [0.05, 0.5])
@pytest.mark.parametrize("fn", [None, FN])
def test_both_layouts_match_the_formula_numpy_and_torch(t, fn):
    z1, z2, _ = _views()
    for variant, ref in (("simcse", ref_simcse), ("ntxent", ref_ntxent)):
        want, labels = ref(z1, z2, t, fn)
        got = batch_logits(z1, z2, t, variant, fn_mask=fn)  # numpy in, numpy out
        assert isinstance(got.logits, np.ndarray)
        _same(got.logits, want)
        assert np.array_equal(got.labels, labels)
        logits, lab = batch_logits(torch.from_numpy(z1), torch.from_numpy(z2), t, variant,
                                   fn_mask=None if fn is None else torch.from_numpy(fn))
        _same(logits.numpy(), want)
        assert np.array_equal(lab.numpy(), labels)


def test_hard_negatives_and_the_seed_diagonal():
    z1, z2, h = _views()
    want, _ = ref_simcse(z1, z2, 0.05, hard=h, hw=0.7)
    _same(batch_logits(z1, z2, 0.05, "simcse", hard_negatives=h, hard_negative_weight=0.7).logits, want)
    seed = batch_logits(z1, z2, 0.05, "ntxent", diagonal=-1e12 / 0.05).logits
    assert np.all(np.diag(seed) == np.float64(-1e12 / 0.05))
    plain = batch_logits(z1, z2, 0.05, "ntxent").logits
    off = ~np.eye(12, dtype=bool)
    np.testing.assert_array_equal(seed[off], plain[off])
    with pytest.raises(ValueError, match="variant"):
        batch_logits(z1, z2, 0.05, "other")


def test_float16_views_are_computed_in_float32():
    z1, z2, _ = _views(8, 16)
    got = batch_logits(z1.astype(np.float16), z2.astype(np.float16), 0.05, "ntxent").logits
    assert got.dtype == np.float32
    want, _ = ref_ntxent(z1.astype(np.float16).astype(np.float64), z2.astype(np.float16).astype(np.float64), 0.05)
    _same(got, want, tol=1e-4)


@pytest.mark.parametrize("variant", ["simcse", "ntxent"])
def test_the_loss_objects_compute_through_batch_logits(variant, monkeypatch):
    calls = []
    real = functional.batch_logits
    monkeypatch.setattr(functional, "batch_logits", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    loss = build_loss(TrainConfig(loss_variant=variant))
    z1, z2, _ = _views()
    out = loss(torch.from_numpy(z1), torch.from_numpy(z2), temperature=0.05)
    assert calls == [variant]
    logits, labels = real(z1, z2, 0.05, variant)
    lse = np.log(np.exp(logits).sum(1))
    assert float(out.loss) == pytest.approx(float(np.mean(lse - logits[np.arange(len(labels)), labels])), abs=1e-9)


# ------------------------------------------------------------------ the batch matrix
@pytest.mark.parametrize("variant", ["simcse", "ntxent"])
@pytest.mark.parametrize("policy", ["none", "eliminate", "attract"])
def test_row_losses_average_to_the_loss(variant, policy):
    z1, z2, _ = _views(6, 5, seed=3)
    marks = None if policy == "none" else FN.astype(np.int8) * (REMOVED if policy == "eliminate" else ATTRACTED)
    m = batch_matrix(z1, z2, 0.1, variant, fn_marks=marks)
    kw = {"fn_mask": torch.from_numpy(FN)} if policy == "eliminate" else (
        {"attract_mask": torch.from_numpy(FN)} if policy == "attract" else {})
    want = info_nce(torch.from_numpy(z1), torch.from_numpy(z2), 0.1, variant, reduction="none", **kw).numpy()
    np.testing.assert_allclose(m.row_loss, want, atol=1e-5)  # float32 logits
    assert m.loss == pytest.approx(float(want.mean()), abs=1e-5)
    # each row from the formula, in float64: softmax over unmasked cells, CE of the label
    ref, labels = (ref_simcse if variant == "simcse" else ref_ntxent)(
        z1, z2, 0.1, FN if policy == "eliminate" else None)
    for r in range(len(labels)):
        p = np.exp(ref[r] - ref[r][np.isfinite(ref[r])].max())
        p /= p.sum()
        np.testing.assert_allclose(m.probs[r], p, atol=1e-6)
        np.testing.assert_allclose(m.row_probs(r), p, atol=1e-6)
        if policy != "attract":
            assert m.row_cross_entropy(r) == pytest.approx(-np.log(p[labels[r]]), abs=1e-6)
    assert np.array_equal(np.isnan(m.cos), np.isinf(ref))  # masked cells carry no cosine
    if policy != "none":
        assert m.marks is not None and (m.marks > 0).sum() == (3 if variant == "simcse" else 12)


def test_cosine_logit_and_t_prime():
    z1, z2, h = _views(5, 4, seed=1)
    m = batch_matrix(z1, z2, 0.05, "simcse", hard=h, hard_negative_weight=0.5)
    ref, _ = ref_simcse(z1, z2, 0.05, hard=h, hw=0.5)
    np.testing.assert_allclose(m.logits, ref, atol=1e-4)
    cos = ref * 0.05
    cos[np.arange(5), 5 + np.arange(5)] -= 0.5 * 0.05
    np.testing.assert_allclose(m.cos, cos, atol=1e-6)
    ref2, _ = ref_simcse(z1, z2, 0.2, hard=h, hw=0.5)
    p = np.exp(ref2[2] - ref2[2].max())
    np.testing.assert_allclose(m.row_probs(2, 0.2), p / p.sum(), atol=1e-6)
    assert m.scale == pytest.approx(20.0)


def test_orders_keep_positives_beside_the_diagonal():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 32)) * 3
    which = rng.permutation(np.repeat(np.arange(4), 16))
    z1 = centres[which] + rng.normal(size=(64, 32)) * 0.3
    z2 = z1 + rng.normal(size=(64, 32)) * 0.05
    order = cluster_order(z1, z2)
    assert sorted(order) == list(range(64))
    assert (np.diff(which[order]) != 0).sum() == 3  # the planted groups come out contiguous
    rows, cols = display_order(order, "ntxent", 128)
    m = batch_matrix(z1, z2, 0.05, "ntxent")
    shown_labels = np.argsort(cols)[m.labels[rows]]  # display column of each display row's positive
    assert np.all(np.abs(shown_labels - np.arange(128)) == 1)
    rows, cols = display_order(order, "simcse", 128)
    assert np.array_equal(cols[:64], order) and np.array_equal(cols[64:], 64 + order)


# ------------------------------------------------------------------ the trainer's snapshots
def _train(model, corpus, out, **kw):
    cfg = TrainConfig(model_name_or_path=model, train_file=str(corpus), output_dir=str(out),
                      per_device_train_batch_size=8, max_steps=4, snapshot_every=2, probe_size=8,
                      align_probe_size=8, checkpoint_every=4, seed=3, max_seq_length=16, **kw)
    return list(train(cfg))


@pytest.mark.parametrize("kw", [dict(loss_variant="simcse"), dict(loss_variant="ntxent"),
                                dict(fn_pairs=[(0, 1), (2, 5)], fn_policy="eliminate"),
                                dict(loss_variant="ntxent", fn_pairs=[(0, 1), (2, 5)], fn_policy="attract")])
def test_snapshot_views_reproduce_the_reported_loss(tiny_model, tmp_path, kw):
    lines = [f"sentence number {i} about topic {i % 3}" for i in range(8)]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n")
    snaps = _train(tiny_model, corpus, tmp_path / "run", **kw)
    reader = RunReader(tmp_path / "run")
    records = reader.records()
    variant = kw.get("loss_variant", "simcse")
    for snap, rec in zip(snaps, records):
        z1, z2 = snap.batch_z1, snap.batch_z2
        assert z1.dtype == np.float32 and z1.shape == (8, 32)
        np.testing.assert_allclose(np.linalg.norm(z1.astype(np.float64), axis=1), 1.0, atol=1e-6)
        np.testing.assert_allclose(z1 @ z2.T, snap.batch_sim, atol=1e-5)
        if "fn_policy" in kw:
            code = REMOVED if kw["fn_policy"] == "eliminate" else ATTRACTED
            assert snap.batch_fn is not None and set(np.unique(snap.batch_fn)) == {0, code}
            assert snap.batch_fn.sum() == 4 * code  # both pairs, both directions: the batch is the corpus
        else:
            assert snap.batch_fn is None
        reported = float(snap.step_losses[-1, 1])  # the last step's loss: the batch the views are of
        m = batch_matrix(z1, z2, snap.temperature, variant, fn_marks=snap.batch_fn)
        assert m.loss == pytest.approx(reported, abs=1e-4)
        # replayed from the run folder: the same arrays
        back = reader.snapshot(rec)
        assert np.array_equal(back.batch_z1, z1) and np.array_equal(back.batch_z2, z2)
        assert batch_matrix(back.batch_z1, back.batch_z2, back.temperature, variant,
                            fn_marks=back.batch_fn).loss == pytest.approx(reported, abs=1e-4)


def test_an_old_run_folders_cosines_give_the_reference_layout():
    from simcse_core.batch_matrix import cosine_batch_matrix

    z1, z2, _ = _views(6, 5, seed=2)
    sim = (z1 / np.linalg.norm(z1, axis=1, keepdims=True)) @ (z2 / np.linalg.norm(z2, axis=1, keepdims=True)).T
    marks = FN.astype(np.int8) * REMOVED
    m = cosine_batch_matrix(sim, 0.05, marks)
    ref, _ = ref_simcse(z1, z2, 0.05, FN)
    _same(m.logits, ref, tol=1e-4)
    want = info_nce(torch.from_numpy(z1), torch.from_numpy(z2), 0.05, "simcse", fn_mask=torch.from_numpy(FN))
    assert m.loss == pytest.approx(float(want), abs=1e-5)


def test_supervised_hard_negatives_reproduce_the_reported_loss(tiny_model, tmp_path):
    rows = ["sent0,sent1,hard_neg"] + [f"a cat {i} sits,a cat {i} is sitting,a dog {i} runs" for i in range(8)]
    f = tmp_path / "nli.csv"
    f.write_text("\n".join(rows) + "\n")
    snaps = _train(tiny_model, f, tmp_path / "run", mode="sup", hard_negative_weight=0.5)
    for snap in snaps:
        assert snap.batch_hard is not None and snap.batch_hard.shape == snap.batch_z1.shape
        m = batch_matrix(snap.batch_z1, snap.batch_z2, snap.temperature, "simcse", hard=snap.batch_hard,
                         hard_negative_weight=0.5)
        assert m.shape == (8, 16)
        assert m.loss == pytest.approx(float(snap.step_losses[-1, 1]), abs=1e-4)
