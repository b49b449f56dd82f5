"""Clusters and their keyword labels (explore mode): the class-based TF-IDF weights
against the formula in float64, terms of English and Chinese text, HDBSCAN on a map with
known blobs, and labels that name the demo corpus's topics."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from simcse_core.clusters import (cluster_table, density_clusters, keyword_labels, kmeans_clusters, label_text,
                                  terms)


def test_terms_drop_function_words_and_cut_cjk_into_pairs():
    assert terms("The orchestra's conductor didn't smile at 3 o'clock") == ["orchestra", "conductor", "smile",
                                                                          "o'clock"]
    assert terms("他们在北京学习") == ["他们", "们在", "在北", "北京", "京学", "学习"]
    assert terms("猫 and dogs") == ["猫", "dogs"]


def test_class_based_tfidf_matches_the_formula():
    texts = ["guitar drums guitar", "guitar violin", "bread butter", "bread cheese bread", "violin bread"]
    labels = np.array([0, 0, 1, 1, 2])
    got = keyword_labels(texts, labels, top=10)
    counts = {c: Counter(w for t, lab in zip(texts, labels) if lab == c for w in t.split()) for c in (0, 1, 2)}
    total = Counter()
    for cnt in counts.values():
        total.update(cnt)
    A = sum(total.values()) / 3.0
    for c, cnt in counts.items():
        size = sum(cnt.values())
        want = {t: (n / size) * math.log(1.0 + A / total[t]) for t, n in cnt.items()}
        assert {t for t, _ in got[c]} == set(want)
        for t, w in got[c]:
            assert w == pytest.approx(want[t], rel=1e-12)
        assert [w for _, w in got[c]] == sorted((w for _, w in got[c]), reverse=True)
    assert got[0][0][0] == "guitar" and got[1][0][0] == "bread"
    assert label_text(got[0][:2]) == "guitar · drums"
    assert keyword_labels(texts, np.array([-1] * 5)) == {}  # all noise: nothing to label


def test_chinese_clusters_get_chinese_labels():
    music = ["我喜欢听音乐会", "这场音乐会很精彩", "她在音乐学院学钢琴", "钢琴音乐让人放松"]
    food = ["这家餐厅的米饭很香", "我们晚上吃米饭和青菜", "妈妈做的饺子好吃", "饺子和米饭都是主食"]
    got = keyword_labels(music + food, [0] * 4 + [1] * 4, top=2)
    assert got[0][0][0] == "音乐" and got[1][0][0] == "米饭"


def test_density_clusters_find_the_blobs_of_a_map():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    blobs = np.concatenate([c + rng.normal(0, 0.5, (150 - 40 * i, 2)) for i, c in enumerate(centres)])
    noise = rng.uniform(-20, 30, (15, 2))
    ids = density_clusters(np.concatenate([blobs, noise]), min_cluster_size=20)
    truth = np.repeat([0, 1, 2], [150, 110, 70])
    for b in range(3):
        got = ids[: len(truth)][truth == b]
        assert (got == np.bincount(got[got >= 0]).argmax()).mean() > 0.95  # one cluster a blob
    assert sorted(set(ids[: len(truth)]) - {-1}) == [0, 1, 2]
    assert [int((ids == c).sum()) >= int((ids == c + 1).sum()) for c in (0, 1)] == [True, True]  # by size
    assert (ids[len(truth):] == -1).mean() > 0.5  # the scattered points mostly in no cluster


@pytest.mark.slow
def test_cluster_labels_name_the_demo_corpus_topics():
    """k-means (k = 12) on the default model's embeddings of the demo corpus: for most
    clusters the top label word is characteristic of the cluster's main topic (the topic
    in which that word is most frequent, counted from the corpus's topic column)."""
    from simcse_core.data import load_default_corpus
    from simcse_core.model import load_model

    corpus = load_default_corpus()
    topics = corpus.columns["topic"]
    X = load_model("default", "auto", max_seq_length=32).encode(corpus.sentences, batch_size=64)
    ids = kmeans_clusters(X, 12, seed=0)
    by_topic: dict[str, Counter] = {}
    for text, topic in zip(corpus.sentences, topics):
        by_topic.setdefault(topic, Counter()).update(terms(text))
    table = cluster_table(corpus.sentences, ids, top=3, X=X)
    assert len(table) == 12 and sum(r["size"] for r in table) == len(corpus)
    matched = 0
    for row in table:
        members = [topics[i] for i in np.flatnonzero(ids == row["id"])]
        main = Counter(members).most_common(1)[0][0]
        word = row["terms"][0][0]
        home = max(by_topic, key=lambda t: by_topic[t][word] / sum(by_topic[t].values()))
        matched += home == main
        assert len(row["examples"]) == 3
    assert matched >= 9, [(r["label"], r["size"]) for r in table]
