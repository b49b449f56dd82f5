"""The tour's six chapters: what each says, what to try, and which view it is about.

One chapter per question the studio answers. :func:`chapters` builds them in the
current language (every text goes through :func:`~app.i18n.tr`; the Chinese is in
``app/i18n/zh_tour.py``), so call it when the tour starts, not at import. ``target``
names the view a chapter opens and frames (see :data:`TARGETS`); the tour
(:mod:`app.tour.tour`) knows how to bring each one forward.

The numbers are those of ``../shared/docs/science.md``: SimCSE (Gao, Yao and Chen 2021),
alignment and uniformity (Wang and Isola 2020), temperature and hardness (Wang and Liu
2021).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import tr

# target key -> what it is (for the docs and the tests)
TARGETS = {
    "geometry": "the Training tab's alignment, uniformity and trajectory plots",
    "fnDock": "the False negatives dock",
    "batch_nxn": "the Batch tab in the N x N layout (matrix and the clicked row's softmax)",
    "lensDock": "the Temperature lens dock",
    "dropoutDock": "the Dropout views dock",
    "batch_2n": "the Batch tab in the 2N x 2N layout",
}


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``key``, ``title``, ``text`` (rich text), ``try_this`` (one thing to
    do in the view) and ``target`` (a key of :data:`TARGETS`)."""

    key: str
    title: str
    text: str
    try_this: str
    target: str


def _pull_push() -> Chapter:
    return Chapter(
        "pull_push", tr("What contrastive learning pulls and pushes"),
        tr("<p>Every sentence of a batch has one <b>positive</b>, here the same sentence seen through a second "
           "dropout mask, and the rest of the batch as <b>negatives</b>. The loss pulls each positive pair "
           "together and pushes the negatives away.</p>"
           "<p>Wang and Isola (2020) measure the two effects apart. <b>Alignment</b> = E‖f(x) − f(x⁺)‖²: how "
           "close the positive pairs sit (lower is better). <b>Uniformity</b> = log E exp(−2‖f(x) − f(y)‖²): how "
           "evenly all sentences cover the sphere, 0 when they collapse to one point, about −4 when they are "
           "spread uniformly.</p>"
           "<p>Metric learning with a triplet loss looks at one negative per anchor and is content once it lies "
           "a margin further away than the positive. Contrastive learning (InfoNCE) weighs all the negatives of "
           "the batch at once, through a softmax; as t → 0, t·InfoNCE tends to max(0, s_hardest − s_pos): the "
           "triplet loss on the hardest negative, with margin 0.</p>"),
        tr("Watch the trajectory on the right: one point per snapshot, uniformity across, alignment up, lower "
           "is better on both. A run that learns moves left (more uniform) without climbing (pairs kept close). "
           "Then press Ctrl+E: the same spreading, on the sphere of the embedding space."),
        "geometry")


def _false_negatives() -> Chapter:
    return Chapter(
        "false_negatives", tr("False negatives in a batch"),
        tr("<p>The negatives of SimCSE are simply the other sentences that happen to share the batch. Nobody "
           "checks them: when two of them mean the same thing (a paraphrase, a line repeated in the corpus) the "
           "loss still pushes them apart. Such a pair is a <b>false negative</b>, and a small temperature pushes "
           "hardest on exactly such close pairs.</p>"
           "<p>This panel looks for them in every snapshot's batch: a cosine above a threshold, exact or near "
           "duplicates, an anchor's top-k, or a frozen reference model. Each row gives the pair's share r_ij of "
           "its anchor's push. A pair you confirm can be left out of the denominator (<i>eliminate</i>) or "
           "counted as a second positive (<i>attract</i>) from the next training step.</p>"),
        tr("Click a row: both sentences are marked in the views and the anchor becomes the temperature lens's "
           "anchor. Press C to confirm it or R to reject it. No rows yet? Press \"Scan probe set\"."),
        "fnDock")


def _infonce() -> Chapter:
    return Chapter(
        "infonce", tr("InfoNCE is a cross-entropy"),
        tr("<p>InfoNCE makes each row of the batch's similarity matrix a classification: <i>which column is "
           "my positive?</i> The row's cosines divided by the temperature t are the logits of a softmax, and "
           "row i's loss is the cross-entropy with its positive's column as the label:</p>"
           "<p style='margin-left:14px'>ℓ_i = −log( exp(s_ii/t) / Σ_j exp(s_ij/t) )</p>"
           "<p>This is the N × N layout of the reference code: rows are the first views z1, columns the second "
           "views z2, labels 0..N−1, so each row has its positive on the diagonal and N − 1 negatives. The "
           "batch's loss is the mean over the rows; sentence-transformers' MultipleNegativesRankingLoss computes "
           "the same with scale 20 = 1/t. A model that cannot tell sentences apart scores log N, the chance line "
           "of the loss plot (4.16 at N = 64).</p>"),
        tr("Click a row of the matrix: the bars beside it are that row's softmax (its positive in green) and "
           "the line under them gives its loss −log p(label). Set the values box to the row softmax "
           "probabilities to see every row at once."),
        "batch_nxn")


def _temperature() -> Chapter:
    return Chapter(
        "temperature", tr("What the temperature does to hard negatives"),
        tr("<p>Each negative j of an anchor i gets a share of the push, r_ij = exp(s_ij/t) / Σ_k exp(s_ik/t) "
           "(the sum over the negatives): a Boltzmann distribution over their cosines. The most similar "
           "negatives, the <b>hard</b> ones, get the largest shares, and the smaller t is, the more the push "
           "concentrates on them. As t → 0 only the single hardest negative counts, as in a triplet loss with "
           "margin 0; as t grows every negative weighs the same (Wang and Liu 2021).</p>"
           "<p>SimCSE trains at t = 0.05. A small t spreads the sentences uniformly, but it also pushes apart "
           "near-paraphrases that happen to be negatives: the uniformity–tolerance dilemma.</p>"),
        tr("Move the t' slider: the orange bars are each negative's share of the push at t' (blue: at the "
           "training t), and the table gives the effective number of negatives exp(H). While a run trains, "
           "\"Apply t' to training\" sends t' to the trainer."),
        "lensDock")


def _dropout() -> Chapter:
    return Chapter(
        "dropout", tr("Dropout noise as the augmentation"),
        tr("<p>Unsupervised SimCSE deletes no words and swaps no synonyms. It feeds every sentence to the "
           "encoder twice, and dropout (the encoder's own, p = 0.1) draws a different mask for each copy, so the "
           "two embeddings differ a little. Those two copies are the positive pair; the other sentences of the "
           "batch are the negatives.</p>"
           "<p>The noise must be just right. On STS-B dev (SimCSE, Table 3) p = 0.1 gives 82.5, no dropout 71.1, "
           "p = 0.5 71.0. The same mask for both copies (\"fixed 0.1\") gives 43.6: the copies are identical, the "
           "positive teaches nothing, and the space collapses.</p>"),
        tr("Move the p slider and watch the copies of the sentence spread around its eval-mode embedding (+) "
           "and gather again; then tick \"same mask for both copies\": each pair's two copies fall on one point."),
        "dropoutDock")


def _one_step() -> Chapter:
    return Chapter(
        "one_step", tr("One unsupervised step, start to end"),
        tr("<p>One step in the seed's formulation (SimCLR's NT-Xent; the loss <i>ntxent</i> in Setup):</p>"
           "<ol style='margin-left:-16px'>"
           "<li>the batch is fed as [a, a, b, b, …], every sentence twice; dropout makes the copies "
           "[a1, a2, b1, b2, …];</li>"
           "<li>all 2N embeddings are L2-normalised and compared: a 2N × 2N cosine matrix;</li>"
           "<li>its diagonal (each view against itself, cosine 1) is set to −10¹²: it takes no part;</li>"
           "<li>the matrix is scaled by 1/t (20 at t = 0.05);</li>"
           "<li>the labels are [1, 0, 3, 2, …] (i XOR 1): each row's positive is its own other copy, the 2N − 2 "
           "other columns are its negatives;</li>"
           "<li>the loss is the mean of the rows' cross-entropies; chance is log(2N − 1), 4.85 at N = 64.</li></ol>"
           "<p>The reference code's N × N layout (chapter 3) keeps only the z1-against-z2 block: the same "
           "positives, N − 1 negatives a row.</p>"),
        tr("Hover the grey diagonal (masked) and the outlined cell beside it (the row's label). The line above "
           "the matrix gives this layout's mean row cross-entropy beside the loss the trainer reported; they "
           "agree when the run trains with this layout."),
        "batch_2n")


def chapters() -> tuple[Chapter, ...]:
    """The six chapters, in order, in the current language."""
    return (_pull_push(), _false_negatives(), _infonce(), _temperature(), _dropout(), _one_step())


__all__ = ["TARGETS", "Chapter", "chapters"]
