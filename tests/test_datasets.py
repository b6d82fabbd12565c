"The corpus: scenes as samples, determinism across batches and workers, augmentation, synthesize_from_plan, the CLI."
import json
import os
import numpy as np, pytest, torch
from stickgen.schema import *
from stickgen.datasets import *
from stickgen.story import scene_seed, split_for_seed, plan_scene
from stickgen.plan import INTERACTIONS, Plan
from stickgen.language import parse

def _check(s, tol=2e-4):
    validate_sample(s)
    m = as_multi_actor(s['motion'].numpy())
    bl = bone_lengths(m)
    assert (bl.max(0) - bl.min(0)).max() < tol, 'bone lengths drift'
    assert m[..., 1::2].min() > -1e-5, 'ground penetration'

@pytest.mark.parametrize('action', NAMED_ACTIONS)
def test_every_action_valid(action):
    for seed in (0, 1):
        s = generate_scene(seed, actions=[action])
        _check(s)
        assert action_id(action) in s['actions']
        assert s['physics'].shape == (s['motion'].shape[0], 6)

@pytest.mark.parametrize('seed', range(12))
def test_random_scenes_and_augmentations(seed):
    out = scene_batch([scene_seed(7, seed)], augment=True)
    assert [s['augment'].split()[0] for s in out] == ['none', 'speed', 'translate', 'scale', 'mirror']
    for s in out: _check(s)
    assert out[1]['motion'].shape[0] != out[0]['motion'].shape[0]
    for s in out:
        ref = compute_physics(s['motion'])
        assert ((s['physics'] - ref).abs()/(1 + ref.abs())).max() < 2e-3

def test_multi_actor_and_interactions():
    for inter in INTERACTIONS:
        s = generate_scene(5, interaction=inter)
        _check(s)
        assert s['motion'].ndim == 3 and s['motion'].shape[1] >= 2
        assert s['actor_actions'].shape == s['motion'].shape[:2]
    s = generate_scene(6, interaction='talk')
    assert s['speech'].any() and not s['speech'].all()
    s = generate_scene(7, interaction='handshake', actors=3)
    assert s['motion'].shape[1] == 3

def test_determinism_and_independence_of_batching():
    a = generate_dataset(10, seed=3)
    b = generate_dataset(10, seed=3, workers=2)
    c = [generate_scene(scene_seed(3, i)) for i in range(10)]
    for x, y, z in zip(a, b, c):
        assert torch.equal(x['motion'], y['motion']) and torch.equal(x['motion'], z['motion'])
        assert x['description'] == y['description'] == z['description']
    d = generate_dataset(10, seed=4)
    assert not torch.equal(a[0]['motion'], d[0]['motion'])

def test_mirror_swaps_description():
    assert swap_left_right('Walks left, then Right; leftward and RIGHT-hand') == 'Walks right, then Left; rightward and LEFT-hand'
    base = generate_scene(11, actions=['walk', 'point'])
    (mir,) = augment_sample(base, 1, kinds=('mirror',))
    assert mir['description'] == swap_left_right(base['description'])
    if 'left' in base['description'] or 'right' in base['description']: assert mir['description'] != base['description']
    ax = float(base['camera'][0, 0])
    assert torch.allclose(mir['motion'], mirror_pose(base['motion'], ax), atol=1e-6)

def test_descriptions_varied_and_splits_disjoint():
    ds = generate_dataset(300, seed=0)
    descs = [s['description'] for s in ds]
    assert len(set(descs)) == len(descs)
    assert all(len(s['paraphrases']) >= 2 for s in ds)
    aug = generate_dataset(20, seed=0, augment=True)
    by_seed = {}
    for s in aug: by_seed.setdefault(s['scene_seed'], set()).add(s['split'])
    assert all(len(v) == 1 for v in by_seed.values())
    from collections import Counter
    c = Counter(split_for_seed(scene_seed(0, i)) for i in range(20000))
    assert 0.03 < c['val']/20000 < 0.07 and 0.03 < c['test']/20000 < 0.07

def test_synthesize_from_plan():
    s = synthesize_from_plan([dict(action='walk', seconds=2, direction='right', speed=1.5), dict(action='jump', seconds=1.5),
                              dict(action='wave', seconds=2, expression='happy')], camera='pan')
    _check(s)
    assert s['motion'].shape[0] == 2*FPS + round(1.5*FPS) + 2*FPS
    assert s['motion'][2*FPS, 6] > s['motion'][0, 6] + 1.0
    with pytest.raises(StickgenError): synthesize_from_plan([])
    with pytest.raises(StickgenError): synthesize_from_plan([dict(action='walk', direction='up')])
    with pytest.raises(StickgenError): synthesize_from_plan([dict(action='walk')], camera='drone')
    for d in synthesize_from_plan([dict(action='run', seconds=2), dict(action='jump', seconds=1.5), dict(action='sit', seconds=2)], actors=2)['paraphrases']:
        assert '^' not in d and ' they jumps' not in d and '{' not in d

def test_synthesize_from_a_parsed_plan():
    "A parsed Plan and its step dicts give the same clip (actors and camera come with the plan)."
    for prompt in ('two people walk to the left then wave happily', 'the camera follows a person who jumps twice'):
        p = parse(prompt)
        a = synthesize_from_plan(p, seed=4)
        b = synthesize_from_plan(p.to_steps(), actors=p.num_actors, seed=4, camera=p.camera)
        for k, v in a.items():
            if k == 'plan': continue                      # the parsed plan also keeps the text's clauses and stated seconds
            if isinstance(v, torch.Tensor): assert torch.equal(v, b[k]), k
            else: assert v == b[k], k
        pa, pb = (Plan.from_dict(json.loads(x['plan'])) for x in (a, b))
        assert [(s.action, s.start, s.end) for s in pa.segments] == [(s.action, s.start, s.end) for s in pb.segments]
        assert a['source'] == 'synthetic_plan' and a['motion'].shape[0] == 250

def test_generic_augment_of_foreign_sample():
    import numpy as np
    from stickgen.schema import make_sample, standing_pose, set_joint, get_joint, ActionType
    T = 50                                       # a hand-made clip: swaying while the right hand circles overhead
    m = np.stack([standing_pose(x=0.3*np.sin(0.1*t)) for t in range(T)])
    ang = np.deg2rad(120 + 30*np.sin(np.arange(T)/4))
    set_joint(m, 'right_hand', (get_joint(m, 'right_shoulder') + 0.65*np.stack([np.cos(ang), np.sin(ang)], -1)).astype(np.float32))
    s = make_sample(m, np.full(T, int(ActionType.WAVE)), "a person sways to the left and waves", source='handmade')
    for v in augment_sample(s, 0): _check(v, tol=2e-3)

def test_cli(tmp_path, capsys):
    from stickgen.cli import main
    assert main(['generate-data', '--num-samples', '6', '--output', str(tmp_path/'a.pt'), '--augment', '--quiet']) == 0
    assert len(load_samples(tmp_path/'a.pt')) == 30
    assert main(['generate-data', '--num-samples', '6', '--output', str(tmp_path/'st'), '--augment', '--quiet', '--workers', '2', '--shard-size', '10']) == 0
    from stickgen.storage import open_samples
    st = open_samples(tmp_path/'st'); pt = load_samples(tmp_path/'a.pt')
    assert len(st) == 30 and all(torch.equal(st[i]['motion'], pt[i]['motion']) for i in range(30))
    assert main(['generate-data', '--num-samples', '0', '--output', str(tmp_path/'b.pt')]) == 2
    assert 'num-samples' in capsys.readouterr().err

def test_workers_hand_back_identical_samples(tmp_path):
    "Several workers (batches written to files, read back as views) give exactly the one-process samples."
    from stickgen.datasets import iter_dataset, _exchange_dir
    before = {p for p in os.listdir(_exchange_dir()) if p.startswith('stickgen-gen-')}
    one = [s for c in iter_dataset(24, seed=5, augment=True, batch=8) for s in c]
    two = [s for c in iter_dataset(24, seed=5, augment=True, workers=2, batch=8) for s in c]
    assert len(one) == len(two) == 120 and any(s['motion'].ndim == 3 for s in one)
    for x, y in zip(one, two):
        assert list(x) == list(y)
        for k, v in x.items():
            if isinstance(v, torch.Tensor): assert v.dtype == y[k].dtype and torch.equal(v, y[k]), k
            else: assert v == y[k], k
    validate_samples(two)
    assert {p for p in os.listdir(_exchange_dir()) if p.startswith('stickgen-gen-')} == before   # exchange folder removed
