"Tests for stickgen.curation: quality scores, merge and curate end to end (synthetic + converted samples), stats by hand."
import json, numpy as np, pytest, torch
from pathlib import Path
from stickgen.schema import *
from stickgen.curation import *
from stickgen.converters import convert
from stickgen.datasets import generate_dataset
import stickgen.storage as storage

REAL = Path(__file__).resolve().parents[1].parent/'shared'/'realdata'

def walk(T=250, noise=0.0, travel=2.0, seed=0, period=1.1):
    rng = np.random.default_rng(seed); t = np.arange(T)/FPS
    m = np.stack([standing_pose(x=travel*ti/t[-1] - travel/2) for ti in t]); ph = np.sin(2*np.pi*t/period)
    for j, s in (('left_hand', 1), ('right_hand', -1), ('left_foot', -1), ('right_foot', 1)):
        xy = get_joint(m, j).copy(); xy[:, 0] += s*0.25*ph; set_joint(m, j, xy)
    return m + rng.normal(0, noise, m.shape).astype(np.float32)

def test_quality_thresholds():
    q = motion_quality(walk())
    assert set(['quality_score', 'artifact_score', 'jitter', 'static', 'explosion', 'repetition', 'camera_stability']) <= set(q)
    assert q['flags'] == [] and q['quality_score'] >= 0.8 and q['artifact_score'] <= 0.35
    assert 'jitter' in motion_quality(walk(noise=0.02))['flags']
    assert motion_quality(np.repeat(standing_pose()[None], 60, 0))['flags'] == ['static']
    m = walk(); m[100:] += np.float32(2.0)
    assert 'explosion' in motion_quality(m)['flags']
    # torch and multi-actor inputs, other fps
    assert motion_quality(torch.from_numpy(walk()))['flags'] == []
    assert motion_quality(np.stack([walk(), walk(seed=1)], 1))['flags'] == []
    assert motion_quality(walk(T=500)[::1], fps=50)['flags'] == []

def test_gait_is_not_repetition():
    for period in (0.5, 0.7, 1.1):   # run, fast walk, walk: periodic within lags 5-20 for the faster ones
        q = motion_quality(walk(period=period))
        assert 'repetition' not in q['flags'] and q['artifact_score'] <= 0.35, (period, q)
    inplace = motion_quality(walk(travel=0.0, seed=3, noise=0.003))   # walking on the spot with natural noise
    assert 'repetition' not in inplace['flags']
    t = np.arange(250)/FPS
    loop = np.stack([standing_pose() for _ in t])
    xy = get_joint(loop, 'right_hand').copy(); xy[:, 1] += 0.3*np.sin(2*np.pi*t/0.4); set_joint(loop, 'right_hand', xy)
    assert 'repetition' in motion_quality(loop)['flags']

@pytest.mark.skipif(not REAL.is_dir(), reason='../shared/realdata not present')
def test_real_clips_are_clean():
    hml, _ = convert('humanml3d', REAL/'humanml3d'); bn, _ = convert('bvh', REAL/'bandai_namco_bvh')
    for s in hml + bn:
        q = motion_quality(s['motion'], camera=s['camera'])
        assert q['flags'] == [] and q['artifact_score'] <= 0.5, (s['meta']['file'], q)

def test_cap_groups():
    keep, f = cap_groups(['a']*60 + ['b']*30 + ['c']*10 + ['d']*5 + ['e']*5, [1.0]*110, 0.3)
    src = (['a']*60 + ['b']*30 + ['c']*10 + ['d']*5 + ['e']*5)
    from collections import Counter
    c = Counter(src[i] for i in keep)
    assert max(c.values()) <= 0.3*len(keep) + 1e-9 and c['c'] == 10 and c['d'] == 5 and f == 0.3
    q = [0.1]*5 + [0.9]*5
    keep, f = cap_groups(['a']*10 + ['b']*3, q + [0.5]*3, 0.3)
    assert f == 0.5 and len(keep) == 6 and set(keep) - {10, 11, 12} <= {5, 6, 7, 8, 9}   # best-quality members of the big group

def sample(i, source, action='walk', noise=0.0, frozen=False, T=100):
    m = np.repeat(standing_pose()[None], T, 0) if frozen else walk(T, noise=noise, seed=i)
    return make_sample(m, np.full(T, action_id(action), np.int64), f"{source} {i} {action}", source=source)

def test_merge_curate_end_to_end(tmp_path):
    syn = generate_dataset(6, seed=0)                # synthetic, from the story engine
    save_samples(syn, tmp_path/'syn.pt')
    if REAL.is_dir():
        conv, _ = convert('bvh', REAL/'bandai_namco_bvh')
        conv = [s for s in conv if 25 <= s['motion'].shape[0] <= 500]
        for s in conv: s.pop('meta', None)
    else:
        conv = [sample(i, 'bvh', a) for i, a in enumerate(['kick', 'wave', 'walk', 'run', 'bow', 'punch'])]
    save_samples(conv, tmp_path/'conv.pt')
    save_samples([sample(i, 'other', a) for i, a in enumerate(['jump', 'sit', 'clap', 'dance'])] +
                 [sample(9, 'other', noise=0.04), sample(10, 'other', frozen=True)], tmp_path/'other.pt')
    out = tmp_path/'merged.pt'
    from stickgen.cli import main
    rc = main(['merge', '--inputs', str(tmp_path/'syn.pt'), str(tmp_path/'conv.pt'), str(tmp_path/'other.pt'), '--output', str(out),
               '--balance-sources', '--max-source-fraction', '0.3', '--filter-artifacts', '--compute-stats'])
    assert rc == 0
    st = json.loads((tmp_path/'merged.stats.json').read_text())
    merged = load_samples(out)
    assert st['num_samples'] == len(merged)
    assert st['dropped'].get('artifact: jitter') == 1 and st['dropped'].get('artifact: static') == 1
    n = len(merged)
    assert max(st['per_source'].values()) <= max(0.3, 1/3)*n + 1e-9
    assert all(0 <= s['quality_score'] <= 1 and 0 <= s['artifact_score'] <= 0.5 for s in merged)
    rc = main(['curate', '--input', str(out), '--output-dir', str(tmp_path/'curated')])
    assert rc == 0
    cs = json.loads((tmp_path/'curated'/'curation_stats.json').read_text())
    pre, sft = load_samples(tmp_path/'curated'/'pretrain_data.pt'), load_samples(tmp_path/'curated'/'sft_data.pt')
    assert len(pre) == cs['pretrain']['num_samples'] > 0 and len(sft) == cs['sft']['num_samples']
    assert all(s['quality_score'] >= 0.5 and s['artifact_score'] <= 0.5 and 25 <= s['motion'].shape[0] <= 500 for s in pre)
    assert all(s['quality_score'] >= 0.8 and s['artifact_score'] <= 0.35 and s['camera_stability'] >= 0.6 for s in sft)
    assert cs['sft']['synthetic_fraction'] <= 0.4 + 1e-9 and cs['config']['min_quality_sft'] == 0.8

def test_stats_by_hand(tmp_path):
    save_samples([sample(0, 'a', 'walk', T=50), sample(1, 'a', 'wave', T=100), sample(2, 'b', 'kick', T=150)], tmp_path/'x.pt')
    st = merge([tmp_path/'x.pt'], tmp_path/'m.pt', balance_sources=False)
    assert st['num_samples'] == 3 and st['total_frames'] == 300
    assert st['per_source'] == {'a': 2, 'b': 1} and st['per_action'] == {'walk': 1, 'wave': 1, 'kick': 1}
    assert st['action_frames'] == {'walk': 50, 'wave': 100, 'kick': 150}
    assert st['length']['min'] == 50 and st['length']['max'] == 150 and st['length']['mean'] == 100 and st['length']['median'] == 100
    assert json.loads((tmp_path/'m.stats.json').read_text())['per_source'] == {'a': 2, 'b': 1}
    cst = curate(tmp_path/'m.pt', tmp_path/'c', CurationConfig(min_frames=60, max_source_fraction=1.0, max_action_fraction_sft=1.0))
    assert cst['pretrain']['dropped']['length'] == 1 and cst['pretrain']['num_samples'] == 2

def test_errors(tmp_path):
    with pytest.raises(StickgenError): merge([tmp_path/'nope.pt'], tmp_path/'o.pt')
    (tmp_path/'bad.pt').write_bytes(b'junk')
    with pytest.raises(StickgenError): curate(tmp_path/'bad.pt', tmp_path/'o')

def test_store_directories(tmp_path):
    "merge and curate stream from and to stickgen.storage store directories (not only .pt lists)."
    storage.write_samples((sample(i, 'a', a) for i, a in enumerate(['walk', 'wave', 'kick', 'jump'])), tmp_path/'a_store')
    save_samples([sample(i, 'b', a) for i, a in enumerate(['walk', 'sit', 'clap'])] + [sample(9, 'b', noise=0.05)], tmp_path/'b.pt')
    st = merge([tmp_path/'a_store', tmp_path/'b.pt'], tmp_path/'merged_store', max_source_fraction=0.6)
    assert (tmp_path/'merged_store.stats.json').exists() and st['num_samples'] == 7 and st['dropped'] == {'artifact: jitter': 1}
    merged = storage.open_samples(tmp_path/'merged_store')
    assert len(merged) == 7 and all(0 <= float(s['quality_score']) <= 1 for s in merged)
    cst = curate(tmp_path/'merged_store', tmp_path/'cur', suffix='')
    assert storage.is_store(tmp_path/'cur'/'pretrain_data') and len(storage.open_samples(tmp_path/'cur'/'pretrain_data')) == cst['pretrain']['num_samples'] > 0

def test_synthetic_only_corpus_keeps_an_sft_set(tmp_path):
    acts = ['walk', 'wave', 'kick', 'jump', 'sit', 'clap']
    save_samples([sample(i, 'synthetic', acts[i % 6]) for i in range(24)], tmp_path/'s.pt')
    cst = curate(tmp_path/'s.pt', tmp_path/'c')
    assert cst['sft']['effective_fractions']['synthetic'] == 1.0 and cst['sft']['num_samples'] >= 12
    assert max(cst['sft']['per_action'].values()) <= 0.3*cst['sft']['num_samples'] + 1e-9
