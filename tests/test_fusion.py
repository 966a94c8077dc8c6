"""Weighted reciprocal rank fusion: scores by hand, weights, duplicates, validation, tie-breaks."""

from __future__ import annotations

import pytest

from qa.fusion import rrf


def test_unweighted_scores_match_hand_computation() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]])
    assert fused == [
        ("b", pytest.approx(1 / 62 + 1 / 61)),
        ("c", pytest.approx(1 / 63 + 1 / 62)),
        ("a", pytest.approx(1 / 61)),
        ("d", pytest.approx(1 / 63)),
    ]


def test_k_changes_the_scores() -> None:
    assert rrf([["a", "b"]], k=1) == [("a", pytest.approx(1 / 2)), ("b", pytest.approx(1 / 3))]


def test_weights_scale_each_ranking() -> None:
    rankings = [["a", "b"], ["b", "a"]]
    assert rrf(rankings, weights=[3.0, 1.0]) == [
        ("a", pytest.approx(3 / 61 + 1 / 62)),
        ("b", pytest.approx(3 / 62 + 1 / 61)),
    ]
    assert [item for item, _ in rrf(rankings, weights=[1.0, 3.0])] == ["b", "a"]


def test_zero_weight_ranking_contributes_nothing() -> None:
    assert rrf([["a"], ["z", "a"]], weights=[1.0, 0.0]) == [("a", pytest.approx(1 / 61))]


def test_duplicate_in_one_ranking_counts_once_at_first_rank() -> None:
    fused = dict(rrf([["a", "b", "a"], ["a"]]))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)  # ranks are positions in the list as given
    assert dict(rrf([["a", "a", "b"]]))["b"] == pytest.approx(1 / 63)


def test_equal_scores_break_by_best_single_rank() -> None:
    # y: rank 2 with weight 62 -> 1.0; x: rank 1 with weight 61 -> 1.0. y is seen first,
    # but x's best rank (1) beats y's (2).
    fused = rrf([["p", "y"], ["x"]], weights=[62.0, 61.0])
    assert fused[1:] == [("x", 1.0), ("y", 1.0)]


def test_equal_scores_and_ranks_break_by_first_appearance() -> None:
    assert [item for item, _ in rrf([["a"], ["b"]])] == ["a", "b"]
    assert [item for item, _ in rrf([["b"], ["a"]])] == ["b", "a"]


def test_empty_inputs() -> None:
    assert rrf([]) == []
    assert rrf([[], []]) == []


def test_validation() -> None:
    with pytest.raises(ValueError, match="weights"):
        rrf([["a"], ["b"]], weights=[1.0])
    with pytest.raises(ValueError, match="k must be"):
        rrf([["a"]], k=0)
    with pytest.raises(ValueError, match="weights must be"):
        rrf([["a"]], weights=[-1.0])
    with pytest.raises(TypeError, match="not a string"):
        rrf(["abc"])
