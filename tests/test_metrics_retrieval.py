import numpy as np
import pytest

from avtbench.metrics.retrieval import mean_average_precision, mean_rank, median_rank, median_rank_lower, ranks, recall_at_k

# q0: target 0 scores highest                      -> rank 1
# q1: target 1 (0.4) is beaten by 0.8 and 0.6       -> rank 3
# q2: target 3 (0.1) is last                        -> rank 4
SIM = np.array(
    [
        [0.9, 0.1, 0.5, 0.3],
        [0.2, 0.4, 0.8, 0.6],
        [0.7, 0.6, 0.5, 0.1],
    ]
)
GT = np.array([0, 1, 3])


def test_ranks_single_target():
    assert ranks(SIM, GT).tolist() == [1, 3, 4]


def test_recall_at_k():
    out = recall_at_k(SIM, GT, ks=(1, 3, 5))
    assert out[1] == pytest.approx(100.0 / 3)
    assert out[3] == pytest.approx(200.0 / 3)
    assert out[5] == pytest.approx(100.0)


def test_median_and_mean_rank():
    assert median_rank(SIM, GT) == 3.0
    assert mean_rank(SIM, GT) == pytest.approx(8.0 / 3)
    # even number of queries: queries 0 and 2 have ranks [1, 4] -> median 2.5
    assert median_rank(SIM[[0, 2]], GT[[0, 2]]) == 2.5


def test_lower_median_rank_as_vip_ant():
    # odd count: the middle rank, as the plain median
    assert median_rank_lower(SIM, GT) == 3.0
    # even count: ranks [1, 4] -> the lower middle value, as torch.median (VIP-ANT), not 2.5
    assert median_rank_lower(SIM[[0, 2]], GT[[0, 2]]) == 1.0
    assert median_rank_lower(SIM[[1, 2]], GT[[1, 2]]) == 3.0
    torch = pytest.importorskip("torch")
    zero_based = torch.tensor(ranks(SIM[[0, 1, 2, 0]], GT[[0, 1, 2, 0]]) - 1, dtype=torch.float32)
    assert median_rank_lower(SIM[[0, 1, 2, 0]], GT[[0, 1, 2, 0]]) == float(zero_based.median() + 1)
    # ties are pessimistic: every item scoring the same gives the worst rank
    assert median_rank_lower(np.zeros((2, 3)), np.array([0, 1])) == 3.0


def test_map_single_target_is_mean_reciprocal_rank():
    # (1 + 1/3 + 1/4) / 3 = 19/36
    assert mean_average_precision(SIM, GT) == pytest.approx(100.0 * 19 / 36)


def test_several_relevant_items():
    # order: item1 (0.9, irrelevant), item2 (0.8, relevant), item3 (0.3), item0 (0.1, relevant)
    # best relevant rank 2 ; AP = (1/2 + 2/4) / 2 = 0.5
    sim = np.array([[0.1, 0.9, 0.8, 0.3]])
    relevant = np.array([[True, False, True, False]])
    assert ranks(sim, relevant).tolist() == [2]
    assert recall_at_k(sim, relevant, ks=(1, 2)) == {1: 0.0, 2: 100.0}
    assert mean_average_precision(sim, relevant) == pytest.approx(50.0)


def test_ties_rank_irrelevant_items_first():
    # all four items tie: the relevant one is placed after the three irrelevant ones
    sim = np.full((1, 4), 0.5)
    assert ranks(sim, np.array([0])).tolist() == [4]
    assert mean_average_precision(sim, np.array([2])) == pytest.approx(25.0)


def test_validation_errors():
    with pytest.raises(ValueError, match="2-D"):
        ranks(np.zeros(4), np.array([0]))
    with pytest.raises(ValueError, match="range"):
        ranks(SIM, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="no relevant"):
        ranks(SIM, np.zeros((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="finite"):
        ranks(np.array([[np.nan, 0.1]]), np.array([0]))
    with pytest.raises(ValueError, match="shape"):
        ranks(SIM, np.ones((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="gt_index"):
        ranks(SIM, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="positive ints"):
        recall_at_k(SIM, GT, ks=(0, 1))
