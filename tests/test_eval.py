"Metric unit tests (hand-computed cases) and fast end-to-end checks of the evaluator and StickGen-Bench."
import json
import numpy as np
import pytest
import torch

from stickgen.schema import StickgenError, standing_pose, CLIP_FRAMES
from dataclasses import replace
from stickgen import eval as E
from stickgen.config import load_config
from stickgen.model import build_model
from stickgen.checkpoints import find_checkpoints
from stickgen.cli import eval_cli


# ---- FID -------------------------------------------------------------------------------------------------------
def test_fid_identical_sets_is_zero():
    x = np.random.default_rng(0).normal(size=(500, 16))
    assert abs(E.frechet_distance(x, x)) < 1e-6


def test_fid_from_stats_matches_closed_form_for_diagonal_gaussians():
    a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 4.0, 1.0, 1.0])
    mu1, mu2 = np.zeros(4), np.array([3.0, 0.0, 4.0, 1.0])
    expected = 26.0 + ((np.sqrt(a) - np.sqrt(b))**2).sum()
    assert E.frechet_from_stats(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-9)


def test_fid_of_shifted_gaussians_matches_the_analytic_value():
    rng = np.random.default_rng(1)
    shift = np.r_[1.0, 2.0, np.zeros(4)]                     # |shift|^2 = 5, same covariance -> FID = 5
    x, y = rng.normal(size=(40000, 6)), rng.normal(size=(40000, 6)) + shift
    assert E.frechet_distance(x, y) == pytest.approx(5.0, abs=0.05)


def test_fid_is_symmetric_and_handles_singular_covariances():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 32)), rng.normal(size=(12, 32))  # N < D: singular covariances
    d = E.frechet_distance(x, y)
    assert np.isfinite(d) and d == pytest.approx(E.frechet_distance(y, x), rel=1e-4)


def test_fid_rejects_bad_input():
    with pytest.raises(StickgenError, match='at least 2'): E.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(StickgenError, match='different dimensions'): E.frechet_distance(np.ones((5, 3)), np.ones((5, 4)))
    with pytest.raises(StickgenError, match=r'\[N, D\]'): E.frechet_distance(np.ones(5), np.ones((5, 1)))


# ---- R-precision / MM-Dist -------------------------------------------------------------------------------------
def test_r_precision_perfect_pairing_is_one():
    x = np.random.default_rng(3).normal(size=(96, 8))*10
    np.testing.assert_array_equal(E.r_precision(x, x, top_k=3), np.ones(3))
    assert E.matching_score(x, x) == 0.0


def test_r_precision_random_pairing_is_k_over_32():
    rng = np.random.default_rng(4)
    vals = np.mean([E.r_precision(rng.normal(size=(640, 8)), rng.normal(size=(640, 8)), seed=s) for s in range(10)], 0)
    np.testing.assert_allclose(vals, np.array([1, 2, 3])/32, atol=0.015)


def test_r_precision_hand_computed_batch():
    # a batch of 4 on a line; texts at 0, 10, 20, 30
    t = np.array([[0.], [10.], [20.], [30.]])
    m = np.array([[0.], [10.], [24.5], [26.]])             # every text's own motion is its nearest
    np.testing.assert_array_equal(E.r_precision(t, m, top_k=2, batch_size=4), [1.0, 1.0])
    m = np.array([[0.], [10.], [27.], [26.]])               # texts 2 and 3 now find the other's motion first: rank 2
    np.testing.assert_array_equal(E.r_precision(t, m, top_k=2, batch_size=4), [0.5, 1.0])
    assert E.matching_score(t, m) == pytest.approx((0 + 0 + 7 + 4)/4)


def test_r_precision_drops_the_incomplete_last_batch_and_needs_one_batch():
    x = np.random.default_rng(5).normal(size=(40, 4))
    y = x.copy(); y[32:] = 1e6                               # the last 8 (dropped) pairs would be wrong
    np.testing.assert_array_equal(E.r_precision(x, y), np.ones(3))
    with pytest.raises(StickgenError, match='at least batch_size=32'): E.r_precision(x[:20], x[:20])


# ---- Diversity / Multimodality ---------------------------------------------------------------------------------
def test_diversity_on_known_points():
    pts = np.r_[np.zeros((200, 2)), np.full((200, 2), [3.0, 4.0])]   # two clusters 5 apart: half the pairs cross
    vals = [E.diversity(pts, 300, seed=s) for s in range(40)]
    assert np.mean(vals) == pytest.approx(2.5, abs=0.1)
    assert E.diversity(np.ones((301, 3)), 300) == 0.0
    with pytest.raises(StickgenError, match='more than times=300'): E.diversity(np.ones((300, 3)))


def test_multimodality_on_known_points():
    # every prompt's repeats are identical -> 0; repeats at distance 2 in two groups -> scales linearly
    assert E.multimodality(np.zeros((4, 20, 3))) == 0.0
    x = np.zeros((3, 20, 1)); x[:, 10:] = 2.0
    mm = E.multimodality(x, times=10, seed=0)
    assert 0 < mm <= 2.0 and E.multimodality(5*x, times=10, seed=0) == pytest.approx(5*mm)
    with pytest.raises(StickgenError, match='more than times=10'): E.multimodality(np.zeros((3, 10, 2)))


def test_confidence_interval_formula():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    m, c = E.confidence(v)
    assert m == 2.5 and c == pytest.approx(1.96*np.std(v)/2)


# ---- motion quality --------------------------------------------------------------------------------------------
def _sway(T=CLIP_FRAMES):
    t = np.arange(T)/25
    return np.stack([standing_pose(x=0.3*np.sin(2*np.pi*0.4*ti)) for ti in t])


def test_quality_metrics_rank_clean_above_broken_motion():
    sway = _sway()
    noisy = sway + np.random.default_rng(0).normal(scale=0.05, size=sway.shape)
    fast = np.stack([standing_pose(x=0.8*i) for i in range(CLIP_FRAMES)])      # 20 m/s
    assert E.smoothness(sway) > 0.9 > E.smoothness(noisy)
    assert E.physics_consistency(fast)['score'] == 0.0 and E.physics_consistency(sway)['score'] == 1.0
    assert E.realism_score(sway) > max(E.realism_score(noisy), E.realism_score(fast))
    for m in (sway, noisy, fast):
        assert 0.0 <= E.realism_score(m) <= 1.0
        q = E.motion_quality(m)
        assert 0.0 <= q['artifact_score'] <= 1.0
    assert E.position_accuracy(sway, sway + np.tile([0.3, 0.4], 10)) == pytest.approx(0.5)
    assert E.text_alignment(np.eye(3), 2*np.eye(3)) == pytest.approx(1.0)


# ---- evaluator and bench on the toy corpus ---------------------------------------------------------------------
@pytest.fixture(scope='module')
def toy():
    train, test = E.toy_corpus(192, 0, num_frames=60), E.toy_corpus(64, E.TEST_SEED_OFFSET, num_frames=60)
    ev = E.train_evaluator(train, test, epochs=6, log=None)
    return train, test, ev


def test_evaluator_separates_real_motions_by_prompt(toy):
    _, _, ev = toy
    q = ev.meta['test_quality']
    assert q['r_precision'][2] > 3*3/32, q                   # far above chance
    assert ev.meta['version'].startswith(E.EVALUATOR_VERSION) and len(ev.meta['data_hash']) == 64


def test_evaluator_save_load_and_cache(toy, tmp_path):
    train, test, ev = toy
    back = E.load_evaluator(E.save_evaluator(ev, tmp_path/'ev.pt'))
    ms = [s['motion'] for s in test[:5]]
    np.testing.assert_allclose(back.embed_motions(ms), ev.embed_motions(ms), atol=1e-5)
    assert not any(p.requires_grad for p in back.parameters())
    # get_evaluator: trained once per data version, then loaded
    h = E.data_hash(train)
    E.save_evaluator(ev, tmp_path/f"evaluator-{h[:12]}.pt")
    again = E.get_evaluator(train, directory=tmp_path, log=None)
    assert again.meta['data_hash'] == h
    torch.save({'format': 'something else'}, tmp_path/'bad.pt')
    with pytest.raises(StickgenError, match='not a stickgen evaluator'): E.load_evaluator(tmp_path/'bad.pt')


def test_bench_rows_real_vs_mean_motion(toy, tmp_path):
    train, test, ev = toy
    ctx = E.BenchContext(ev, test, train, replications=2, mm_prompts=6, mm_repeats=11)
    res = E.run_bench(ctx, output_dir=tmp_path, log=None)
    rows = {r['name']: r for r in res['rows']}
    real, mean = rows['Real (test, half vs half)'], rows['Mean training motion']
    assert real['r_precision_top3'][0] > 0.25
    assert mean['fid'][0] > 10*max(real['fid'][0], 0.01)
    assert mean['diversity'][0] < 1e-6 and mean['multimodality'][0] < 1e-6
    assert rows['Random training motion']['multimodality'][0] > 0
    assert {'MDM', 'MotionDiffuse', 'T2M', 'MLD'} <= set(rows)
    assert all('not comparable' in r['note'] for r in res['rows'] if r['kind'] == 'reference')
    saved = json.loads((tmp_path/'bench.json').read_text())
    assert saved['protocol']['replications'] == 2 and (tmp_path/'bench.md').exists() and (tmp_path/'bench.png').exists()
    assert '| Real (test, half vs half) |' in (tmp_path/'bench.md').read_text()


def test_model_row_with_an_untrained_tiny_model(toy):
    train, test, ev = toy
    ctx = E.BenchContext(ev, test, train, replications=1, mm_prompts=2, mm_repeats=3, mm_times=2)
    torch.manual_seed(0)
    m = build_model(replace(load_config('tiny').model, embedding_dim=ctx.text.shape[1]))
    rows = E.model_rows(ctx, m, 'tiny (untrained)', steps=2)
    assert [r['name'] for r in rows] == ['tiny (untrained) · text only', 'tiny (untrained) · text + parsed plan']
    for row in rows:
        assert row['params'] > 0 and np.isfinite(row['fid'][0]) and row['sec_per_clip'] > 0
        assert 0 <= row['r_precision_top1'][0] <= 1


def test_runs_index(tmp_path):
    run = tmp_path/'small'/'sft'; run.mkdir(parents=True)
    torch.save(dict(model_state_dict={}, epoch=2, stage='sft', val_loss=0.25, config=dict(data=dict(data_path='sft.pt'))), run/'model_checkpoint_best.pth')
    idx = E.write_runs_index(tmp_path).read_text()
    assert '| small/sft | small | sft | sft.pt |' in idx
    assert find_checkpoints(tmp_path) == [run/'model_checkpoint_best.pth']
    assert E.checkpoint_name(run/'model_checkpoint_best.pth') == 'sft'


def test_cli_errors_are_stickgen_errors(tmp_path):
    with pytest.raises(StickgenError, match='not found'):
        eval_cli(['--checkpoint', str(tmp_path/'nope.pth'), '--reference_data', str(tmp_path/'missing.pt')])
