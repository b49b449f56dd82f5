"""The demo corpus: format, size, topics, paraphrase groups and near-duplicates."""

import collections
import csv

from simcse_core.data import default_corpus_path, near_duplicate_groups, read_corpus


def test_demo_corpus_shape_and_ground_truth():
    path = default_corpus_path()
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["text", "topic", "group"]
    assert len(rows) >= 1500
    topics = collections.Counter(r["topic"] for r in rows)
    assert len(topics) >= 12 and min(topics.values()) >= 100
    groups = collections.Counter(r["group"] for r in rows)
    paraphrase_sets = [g for g, n in groups.items() if 2 <= n <= 4]
    assert len(paraphrase_sets) >= 150
    assert max(groups.values()) <= 4
    # every group stays within one topic
    topic_of = collections.defaultdict(set)
    for r in rows:
        topic_of[r["group"]].add(r["topic"])
    assert all(len(t) == 1 for t in topic_of.values())
    # near-duplicates (case/punctuation changes) exist and each lies inside one group
    texts = [r["text"] for r in rows]
    near = near_duplicate_groups(texts)
    assert len(near) >= 12
    for g in near:
        assert len({rows[i]["group"] for i in g}) == 1
    # the engine reads it with its label columns
    corpus = read_corpus(path)
    assert len(corpus) == len(rows) and corpus.columns["topic"][0] == rows[0]["topic"]
