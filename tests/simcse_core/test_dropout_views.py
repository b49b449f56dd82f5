"""Dropout views (issue 12, item 2) on the tiny random BERT: p = 0 collapses the views
onto the eval-mode embedding, the same mask makes each pair's copies identical,
different masks do not, the spread grows with p, and nothing touches the caller's
model or torch's global random generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simcse_core.dropout_views import DropoutViewer, dropout_views, nearest_other, polar_projection
from simcse_core.model import load_model

TEXT = "a man is playing a guitar ."


@pytest.fixture(scope="module")
def encoder(tiny_model):
    return load_model(tiny_model, pooler_type="avg")


@pytest.fixture(scope="module")
def viewer(encoder):
    return DropoutViewer(encoder)


def test_p_zero_collapses_every_view_onto_the_centre(viewer, encoder):
    for same in (False, True):
        v = viewer.views(TEXT, k=32, p=0.0, same_mask=same)
        assert v.views.shape == (32, encoder.dim) and v.centre.shape == (encoder.dim,)
        np.testing.assert_allclose(v.cos_to_centre, 1.0, atol=1e-6)
        np.testing.assert_allclose(v.pair_cos, 1.0, atol=1e-6)
        assert abs(v.spread - 1.0) < 1e-6
        assert np.abs(polar_projection(v.views, v.centre)).max() < 1e-3  # one point, at the centre
    # the centre is the eval-mode embedding the encoder itself gives
    np.testing.assert_allclose(v.centre, encoder.encode([TEXT])[0], atol=1e-5)


def test_same_mask_gives_identical_copies_and_different_masks_do_not(viewer):
    same = viewer.views(TEXT, k=32, p=0.1, same_mask=True)
    h = same.k // 2
    assert np.array_equal(same.views[:h], same.views[h:])  # bit-identical copies of each pair
    np.testing.assert_allclose(same.pair_cos, 1.0, atol=1e-6)
    assert same.cos_to_centre.min() < 0.999  # the pairs still differ from each other and from the centre
    diff = viewer.views(TEXT, k=32, p=0.1, same_mask=False)
    assert diff.pair_cos.max() < 1.0 - 1e-4  # every positive pair differs
    assert diff.positive_cosine < same.positive_cosine - 1e-3
    # copy A is drawn with the same masks either way: only copy B's masks change
    assert np.array_equal(diff.views[:h], same.views[:h])


def test_spread_grows_with_p(viewer):
    ps = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5]
    spreads = [viewer.views(TEXT, k=32, p=p).spread for p in ps]
    assert all(a > b for a, b in zip(spreads, spreads[1:])), spreads  # mean cosine to the centre falls
    assert spreads[-1] < 0.99
    pos = [viewer.views(TEXT, k=32, p=p).positive_cosine for p in ps]
    assert all(a > b for a, b in zip(pos, pos[1:])), pos


def test_attention_dropout_goes_through_the_viewer(viewer):
    assert viewer.views(TEXT, k=4, p=0.1).attention_dropout


def test_the_views_leave_the_model_and_the_global_generator_alone(encoder):
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    dropout_p = [m.p for m in encoder.modules() if isinstance(m, torch.nn.Dropout)]
    encoder.train()
    rng = torch.get_rng_state()
    a = dropout_views(encoder, TEXT, k=8, p=0.3, seed=3)
    assert torch.equal(rng, torch.get_rng_state())  # no draw from the global generator
    assert encoder.training  # the caller's mode kept
    encoder.eval()
    assert [m.p for m in encoder.modules() if isinstance(m, torch.nn.Dropout)] == dropout_p
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    # the caller's model still runs sdpa attention and its own dropout
    encoder.train()
    tok = encoder.tokenize([TEXT] * 2)
    with torch.no_grad():
        out = encoder(tok["input_ids"], tok["attention_mask"])
    encoder.eval()
    assert not torch.allclose(out[0], out[1])
    # the seed fixes the masks
    b = dropout_views(encoder, TEXT, k=8, p=0.3, seed=3)
    assert np.array_equal(a.views, b.views)


def test_bad_arguments(viewer):
    with pytest.raises(ValueError, match="even"):
        viewer.views(TEXT, k=3)
    with pytest.raises(ValueError, match="dropout probability"):
        viewer.views(TEXT, p=1.0)


def test_nearest_other_and_the_polar_projection():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(20, 8))
    j, c = nearest_other(e, 4)
    u = e / np.linalg.norm(e, axis=1, keepdims=True)
    cos = u @ u[4]
    cos[4] = -2
    assert j == int(np.argmax(cos)) and abs(c - cos.max()) < 1e-12
    assert nearest_other(e[:1], 0)[0] == -1
    # the projection keeps each point's angle to the centre as its distance from the origin
    centre = u[0]
    xy = polar_projection(u[1:], centre, extra=u[:1])
    angles = np.arccos(np.clip(u[1:] @ centre, -1, 1))
    np.testing.assert_allclose(np.linalg.norm(xy[:-1], axis=1), angles, atol=1e-9)
    assert np.linalg.norm(xy[-1]) < 1e-9  # the centre itself at the origin
