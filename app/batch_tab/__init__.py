"""The "Batch" tab: the last batch's similarity matrix in both InfoNCE layouts (the
N x N cross-view matrix and the seed's 2N x 2N one), as cosines, logits or row-softmax
probabilities, following the timeline; a clicked row's softmax at t and at the lens's
t' with its cross-entropy. ``data.py`` (no Qt) captures a snapshot's batch and computes
its matrices in a worker through :mod:`simcse_core.batch_matrix`; ``display.py`` (no Qt)
what one drawing shows; ``feed.py`` keeps it in step with the run model;
``matrix_view.py`` and ``row_chart.py`` draw; ``tab.py`` lays them out."""

from app.batch_tab.tab import BatchTab

__all__ = ["BatchTab"]
