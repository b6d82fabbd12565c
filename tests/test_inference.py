"InferenceGenerator (bounds, retries, fallback, the procedural engine) and the stick-gen CLI (issue 9); the prompt grammar is tested in test_language."
import json, os, subprocess, sys, warnings
from pathlib import Path
import numpy as np, pytest, torch
from stickgen.schema import StickgenError, make_sample
from stickgen.safety import degenerate_motion, reference_motion, SafetyCriticConfig
from stickgen.inference import InferenceGenerator, motion_stats
from stickgen.language import parse, MAX_ACTORS
from stickgen.datasets import synthesize_from_plan
from stickgen.cli import stick_gen_cli
from stickgen.config import RunConfig, ModelConfig, load_config
from stickgen.schema import atomic_save

@pytest.fixture(scope='module')
def gen():
    return InferenceGenerator('procedural')

def test_jump_twice_then_wave_statistics(gen):
    g = gen.generate('a person jumps twice then waves', seed=0)
    assert g.is_safe and g.backend.startswith('procedural') and g.motion.shape == (250, 20)
    st = motion_stats(g.motion, g.plan)
    j1, j2, w = st['steps'][:3]
    assert j1['action'] == j2['action'] == 'jump' and w['action'] == 'wave'
    assert j1['pelvis_excursion'] > 0.1 and j2['pelvis_excursion'] > 0.1      # the pelvis leaves its rest height in each jump
    assert w['hand_above_head'] > 0.3 and j1['hand_above_head'] < 0.5         # the hand is above the head while waving

def test_generator_bounds(gen):
    for kw, msg in ((dict(prompt=''), 'empty prompt'), (dict(prompt='walk', duration=0), 'duration'), (dict(prompt='walk', duration=1e6), 'duration'),
                    (dict(prompt='walk', duration=float('nan')), 'duration'), (dict(prompt='walk', actors=0), 'actors'),
                    (dict(prompt='walk', actors=MAX_ACTORS + 1), 'actors'), (dict(prompt=3), 'prompt'), (dict(prompt='walk', num_samples=0), 'num_samples')):
        with pytest.raises(StickgenError, match=msg): gen.generate(**kw)

def test_generator_odd_input_gives_a_clip_with_notes(gen):
    for p in ('一个人在跳舞', 'asdf qwer', '👋🕺', 'run ' * 400):
        g = gen.generate(p, duration=3)
        assert g.motion.shape[0] == 75 and torch.isfinite(g.motion).all() and g.notes

def test_procedural_backend_is_the_engine(gen):
    "With no model, a clip is the story engine's animation of the parsed plan (there is no other animator)."
    for prompt, actors in (('a person jumps twice then waves', None), ('two people walk to the left and hug', None), ('someone dances', 3)):
        g = gen.generate(prompt, duration=4, seed=3, actors=actors)
        s = synthesize_from_plan(parse(prompt, duration=4, actors=actors), seed=g.seed)
        k = min(len(s['motion']), 100)
        assert g.sample['source'] == 'synthetic_plan' and g.motion.shape[0] == 100
        assert torch.equal(g.motion[:k], s['motion'][:k]) and g.sample['description'] == s['description']
        assert not any('sketch' in n or 'failed' in n for n in g.notes)

def test_multi_actor_and_samples(gen):
    gs = gen.generate('two people dance', duration=3, num_samples=3, seed=1)
    assert len(gs) == 3 and all(g.motion.shape == (75, 2, 20) for g in gs)
    assert len({g.seed for g in gs}) == 3
    d = gs[0].to_dict(); json.dumps(d)
    assert d['num_actors'] == 2

class _Flaky(InferenceGenerator):
    def _draw(self, plan, seed):
        m = degenerate_motion('frozen', plan.duration) if seed < 2000 else reference_motion('walk', plan.duration)
        return make_sample(m, plan.frame_actions(), plan.prompt)

class _Broken(InferenceGenerator):
    def _draw(self, plan, seed):
        kind = 'teleport' if seed % 2000 == 0 else 'frozen'
        return make_sample(degenerate_motion(kind, plan.duration), plan.frame_actions(), plan.prompt)

def test_retries_until_safe():
    g = _Flaky('procedural', max_retries=3).generate('walk', seed=0)
    assert g.is_safe and g.seed == 2000 and [a['is_safe'] for a in g.attempts] == [False, False, True]

def test_rejected_clip_is_flagged_and_least_bad():
    with pytest.warns(UserWarning, match='REJECTED'):
        g = _Broken('procedural', max_retries=2).generate('walk', seed=0)
    assert g.is_safe is False and len(g.attempts) == 3 and any('REJECTED' in n for n in g.notes)
    assert g.safety.issue_types == ['velocity_exceeded']       # severity 0.8 beats frozen's 0.9
    g = _Broken('procedural', enable_safety_check=False).generate('walk')
    assert g.is_safe is None and g.safety is None and len(g.attempts) == 1

def test_check_motion_safety(gen):
    ok, r = gen.check_motion_safety(torch.randn(250, 20))
    assert not ok and r.get_rejection_reasons()
    ok, r = InferenceGenerator('procedural', safety_config=SafetyCriticConfig(rejection_severity_threshold=0.6)).check_motion_safety(degenerate_motion('sink'))
    assert not ok

def test_missing_checkpoint_is_an_error(tmp_path):
    with pytest.raises(StickgenError, match='checkpoint not found'): InferenceGenerator(tmp_path/'nope.pth')

@pytest.fixture
def no_release(monkeypatch):
    "A checkout without the committed release model (stick-gen then takes the newest run, else the engine)."
    import stickgen.inference as inf
    monkeypatch.setattr(inf, 'release_checkpoint', lambda *a, **k: None)

def test_fallback_without_checkpoint(tmp_path, no_release):
    g = InferenceGenerator(runs_dir=tmp_path)
    assert g.checkpoint is None and any('procedural' in n for n in g.notes)

def test_cli_exit_codes(tmp_path, monkeypatch, capsys):
    assert stick_gen_cli(['a person walks', '--output', str(tmp_path/'a.gif'), '--duration', '2', '--runs-dir', str(tmp_path)]) == 0
    assert (tmp_path/'a.gif').stat().st_size > 1000
    assert stick_gen_cli(['a person waves', '--output', str(tmp_path/'a'), '--format', 'motion', '--duration', '2', '--json', '--checkpoint', 'procedural']) == 0
    assert (tmp_path/'a.motion').exists() and '"is_safe": true' in capsys.readouterr().out
    with pytest.raises(StickgenError): stick_gen_cli(['  ', '--output', str(tmp_path/'b.mp4')])
    with pytest.raises(StickgenError, match='format'): stick_gen_cli(['walk', '--output', str(tmp_path/'b.avi')])
    with pytest.raises(StickgenError, match='unrecognized arguments: --bogus'): stick_gen_cli(['walk', '--bogus'])   # stick_gen_main: exit 2
    import stickgen.inference as inf
    monkeypatch.setattr(inf.InferenceGenerator, '_draw', _Broken._draw)
    assert stick_gen_cli(['a person walks', '--output', str(tmp_path/'c.mp4'), '--duration', '2', '--checkpoint', 'procedural']) == 3
    assert not (tmp_path/'c.mp4').exists()
    assert stick_gen_cli(['a person walks', '--output', str(tmp_path/'d.mp4'), '--duration', '2', '--no-safety', '--checkpoint', 'procedural']) == 0

def test_stick_gen_console_script_end_to_end(tmp_path):
    "The issue's acceptance command: an H.264 clip, in seconds, whose motion shows a jump and a wave."
    exe = Path(sys.executable).parent/'stick-gen'
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-c', 'import sys; from stickgen.cli import stick_gen_main; sys.exit(stick_gen_main())']
    marker = tmp_path/'pwned'
    r = subprocess.run(cmd + ['a person jumps twice then waves', '--output', str(tmp_path/'x.mp4')], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    import av
    with av.open(str(tmp_path/'x.mp4')) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == 'h264' and s.frames == 250
    # the same command writing .motion (in-process: the console script was exercised above) gives the motion statistics
    assert stick_gen_cli(['a person jumps twice then waves', '--output', str(tmp_path/'x.motion'), '--runs-dir', str(tmp_path)]) == 0
    from stickgen.renderer import load_motion
    st = motion_stats(load_motion(tmp_path/'x.motion')['motion'], parse('a person jumps twice then waves'))
    assert st['steps'][0]['pelvis_excursion'] > 0.1 and st['steps'][1]['pelvis_excursion'] > 0.1 and st['steps'][2]['hand_above_head'] > 0.3
    # prompt text is data: shell syntax in it runs nothing
    assert stick_gen_cli([f'$(touch {marker}) `touch {marker}`; touch {marker} a person waves', '--output', str(tmp_path/'y.mp4'), '--duration', '1',
                          '--checkpoint', 'procedural']) == 0
    assert not marker.exists()
    r = subprocess.run(cmd + ['', '--output', str(tmp_path/'z.mp4')], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'empty prompt' in r.stderr

class _FakeModel:
    "Stands in for a trained StickFigureTransformer: records its calls, returns clean walks (or a frozen clip on seed 0)."
    cfg = ModelConfig(text_tokens=False, planner_layers=0)          # reads no token states
    def __init__(self): self.calls = []
    def eval(self): return self
    def to(self, *a, **k): return self
    def generate(self, embeddings, num_frames=250, plan=None, seed=0, **kw):
        self.calls.append(dict(shape=tuple(embeddings.shape), num_frames=num_frames, plan=None if plan is None else plan.actions, seed=seed))
        kind = 'frozen' if seed == 0 else 'walk'
        B = embeddings.shape[0]
        m = degenerate_motion('frozen', num_frames/25) if kind == 'frozen' else reference_motion('walk', num_frames/25)
        return dict(motion=torch.from_numpy(np.stack([m]*B)))

class _FakeEncoder:
    dim = 384
    def encode(self, texts): return np.ones((len(texts), 384), np.float32)/np.sqrt(384)
    def encode_tokens(self, texts, max_tokens=48): return [torch.ones(min(len(t.split()) + 2, max_tokens), 384)/np.sqrt(384) for t in texts]

def _fake_checkpoint(tmp_path, monkeypatch, model, config=None):
    "A checkpoint file that loads as `model` (the loader inference uses is patched); returns its path."
    import stickgen.inference as inf
    monkeypatch.setattr(inf, 'load_model', lambda path, device='cpu': (model, config or RunConfig()))
    ck = tmp_path/'m.pth'; ck.write_bytes(b'x')
    return ck

def test_model_backend_uses_newest_checkpoint_and_plan(tmp_path, monkeypatch, no_release):
    ck = tmp_path/'tiny'/'model_checkpoint_best.pth'; ck.parent.mkdir(parents=True); ck.write_bytes(b'x')
    fake = _FakeModel()
    import stickgen.inference as inf
    monkeypatch.setattr(inf, 'load_model', lambda path, device='cpu': (fake, RunConfig()))
    gen = InferenceGenerator(runs_dir=tmp_path)
    assert gen.backend == 'model' and gen.checkpoint == ck
    gen.encoder = _FakeEncoder()
    g = gen.generate('a person jumps then waves', duration=2, seed=0)
    assert g.is_safe and g.seed == 1000 and [a['is_safe'] for a in g.attempts] == [False, True]   # seed 0 froze: retried
    assert fake.calls[0] == dict(shape=(1, 384), num_frames=50, plan=['jump', 'wave'], seed=0)   # conditioned on the parsed plan
    assert g.motion.shape == (50, 20) and g.sample['source'].startswith('model:')
    assert int(g.sample['actions'][0]) == 4 and int(g.sample['actions'][-1]) == 21   # jump ... wave (ActionType ids)


def test_real_tiny_model_animates_actors_jointly(tmp_path, monkeypatch, no_release):
    "A real (untrained) tiny StickFigureTransformer, saved and loaded as a run's checkpoint: every actor in one generate call."
    torch.manual_seed(0)
    cfg = load_config('tiny')
    from stickgen.model import build_model, StickFigureTransformer
    ck = atomic_save(dict(model_state_dict=build_model(cfg.model).state_dict(), config=cfg.to_dict(), epoch=0, global_step=1),
                     tmp_path/'tiny'/'pretrain'/'model_checkpoint_best.pth')
    calls = []
    real_generate = StickFigureTransformer.generate
    def spy(self, *a, **k): calls.append(k.get('num_actors')); return real_generate(self, *a, **k)
    monkeypatch.setattr(StickFigureTransformer, 'generate', spy)
    gen = InferenceGenerator(runs_dir=tmp_path, enable_safety_check=False, steps=2)   # stick-gen's default: the newest run
    assert gen.checkpoint == ck and isinstance(gen.model, StickFigureTransformer)
    gen.encoder = _FakeEncoder()
    g = gen.generate('two people dance', duration=2, seed=1)
    assert calls == [2] and g.backend == 'model' and g.motion.shape == (50, 2, 20)
    assert not torch.allclose(g.motion[:, 0], g.motion[:, 1])      # two actors, not one clip twice
    two = load_config('tiny', {'model.max_actors': 2})
    ck2 = atomic_save(dict(model_state_dict=build_model(two.model).state_dict(), config=two.to_dict()), tmp_path/'two.pth')
    with pytest.raises(StickgenError, match='this model animates at most 2 actors; asked for 3'):
        InferenceGenerator(ck2).generate('three people walk', duration=2)

def test_model_backend_joint_actors(tmp_path, monkeypatch):
    "A model whose generate takes num_actors animates every actor in one call."
    class Joint(_FakeModel):
        def generate(self, embeddings, num_frames=250, plan=None, guidance=None, steps=None, seed=0, num_actors=1, **kw):
            self.calls.append(dict(shape=tuple(embeddings.shape), num_actors=num_actors, seed=seed))
            m = np.stack([reference_motion('walk', num_frames/25, x0=2.0*a) for a in range(num_actors)], 1)
            return dict(motion=torch.from_numpy(m)[None] if num_actors > 1 else torch.from_numpy(m[:, 0])[None])
    fake = Joint()
    ck = _fake_checkpoint(tmp_path, monkeypatch, fake)
    gen = InferenceGenerator(ck); gen.encoder = _FakeEncoder()
    g = gen.generate('three people walk', duration=2, seed=5)
    assert g.is_safe and g.motion.shape == (50, 3, 20) and fake.calls == [dict(shape=(1, 384), num_actors=3, seed=5)]

def test_model_rejected_falls_back_to_procedural(tmp_path, monkeypatch):
    class Frozen(_FakeModel):
        def generate(self, embeddings, num_frames=250, seed=0, **kw):
            return dict(motion=torch.from_numpy(degenerate_motion('frozen', num_frames/25))[None])
    ck = _fake_checkpoint(tmp_path, monkeypatch, Frozen())
    monkeypatch.setattr(InferenceGenerator, '_encoder', lambda self: _FakeEncoder())
    with pytest.warns(UserWarning):
        g = InferenceGenerator(ck, max_retries=1).generate('a person jumps', duration=2)
    assert g.is_safe is False and g.backend == 'model'
    gen = InferenceGenerator(ck, max_retries=1, fallback_on_reject=True); gen.encoder = _FakeEncoder()
    g = gen.generate('a person jumps', duration=2)
    assert g.is_safe and g.backend.startswith('procedural') and g.backend.endswith('(fallback)') and any('fell back' in n for n in g.notes)
    assert [a['backend'] for a in g.attempts][:2] == ['model', 'model']
    assert stick_gen_cli(['a person jumps', '--checkpoint', str(ck), '--output', str(tmp_path/'f.mp4'), '--duration', '2', '--max-retries', '0']) == 0
    assert stick_gen_cli(['a person jumps', '--checkpoint', str(ck), '--output', str(tmp_path/'g.mp4'), '--duration', '2', '--no-fallback']) == 3

def test_plan_adherence(gen):
    from stickgen.inference import plan_adherence
    from stickgen.schema import standing_pose
    for prompt in ('a person walks to the left', 'a person jumps twice then waves', 'a person sits down', 'two people dance then clap'):
        g = gen.generate(prompt, seed=0)
        a = g.adherence
        assert a['scored'] >= 1 and a['score'] >= 0.5, (prompt, a)
    still = np.repeat(standing_pose()[None], 250, 0)
    assert plan_adherence(still, parse('a person walks then jumps'))['score'] == 0.0
    right = reference_motion('walk')             # walks towards +x
    assert plan_adherence(right, parse('a person walks to the right'))['score'] == 1.0
    assert plan_adherence(right, parse('a person walks to the left'))['score'] == 0.0
    assert json.loads(json.dumps(g.to_dict()))['adherence'] == a['score']

def test_model_ignoring_the_prompt_falls_back(tmp_path, monkeypatch):
    "A safe model clip that shows none of the asked-for steps is replaced when min_adherence is set (stick-gen's default)."
    class Walker(_FakeModel):
        def generate(self, embeddings, num_frames=250, seed=0, **kw):
            return dict(motion=torch.from_numpy(reference_motion('walk', num_frames/25))[None])
    ck = _fake_checkpoint(tmp_path, monkeypatch, Walker())
    monkeypatch.setattr(InferenceGenerator, '_encoder', lambda self: _FakeEncoder())
    g = InferenceGenerator(ck).generate('a person jumps twice then waves', duration=4)
    assert g.backend == 'model' and g.is_safe and g.adherence['score'] == 0.0
    g = InferenceGenerator(ck, min_adherence=0.5).generate('a person jumps twice then waves', duration=4)
    assert g.backend.endswith('(fallback)') and g.adherence['score'] == 1.0 and any('procedural story engine instead' in n for n in g.notes)
    g = InferenceGenerator(ck, min_adherence=0.5).generate('a person walks to the right', duration=4)
    assert g.backend == 'model'                                  # the model did what was asked: kept
    from stickgen.renderer import load_motion
    assert stick_gen_cli(['a person jumps twice then waves', '--checkpoint', str(ck), '--output', str(tmp_path/'j.motion')]) == 0
    st = motion_stats(load_motion(tmp_path/'j.motion')['motion'], parse('a person jumps twice then waves'))
    assert st['steps'][0]['pelvis_excursion'] > 0.1 and st['steps'][2]['hand_above_head'] > 0.3


def test_the_release_model_is_the_default(tmp_path):
    "A fresh clone ships a trained model: fp16 safetensors + config.json (<= 16 MB, no pickle), with its provenance; stick-gen uses it and says so."
    from stickgen.checkpoints import release_checkpoint, RELEASE_DIR
    from safetensors import safe_open
    rel = release_checkpoint()
    assert rel is not None, f"no release model in {RELEASE_DIR}"
    assert sum(f.stat().st_size for f in RELEASE_DIR.iterdir()) <= 16*2**20
    with safe_open(str(rel), 'pt') as f: assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    meta = json.loads((RELEASE_DIR/'config.json').read_text())
    assert meta['dtype'] == 'float16' and meta['record'].startswith('runs/') and (Path(__file__).parents[1]/meta['record']).exists()
    assert {'commit', 'data', 'bench'} <= set(meta)
    g = InferenceGenerator(runs_dir=tmp_path)                 # no runs: the release
    assert g.checkpoint == rel and g.backend == 'model' and 'model: the release model' in g.notes
    clip = g.generate('a person walks to the left and waves happily', seed=0)
    assert clip.backend == 'model' and clip.motion.shape == (250, 20) and clip.sample['source'].startswith('model:')
