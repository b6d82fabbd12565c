"Training machinery: precedence, config errors, checkpoints, determinism, kill-and-resume, stages, DDP."
import json, os, signal, subprocess, sys, textwrap
from pathlib import Path
import numpy as np
import pytest
import torch

from stickgen.schema import StickgenError, make_sample, standing_pose, save_samples, atomic_save
from stickgen.config import load_config, resolve_sources, ENV_RESUME, ENV_INIT, ENV_DATA
from stickgen import train as T
from stickgen.checkpoints import load_checkpoint, load_model

REPO = Path(__file__).resolve().parents[1]
# tiny model, short clips, few steps: every run below takes seconds on 2 cores
# (10 clips: 8 train = 2 optimizer steps per epoch, 2 validation)
FAST = dict(epochs=2, batch_size=4, grad_accum_steps=1, window=16, log_every=1, val_aux_samples=0,
            tensorboard=False, progress=False, save_every=1, val_fraction=0.2, warmup_epochs=1)
FAST_ARGS = ['--epochs', '2', '--batch_size', '4'] + [a for k, v in FAST.items() if k not in ('epochs', 'batch_size')
                                                       for a in ('--set', f'{k}={v}')]


def toy_samples(n=10, frames=24, dim=384, seed=0):
    "Small labelled clips with random unit text embeddings (no text encoder needed)."
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        v = rng.uniform(-0.04, 0.04)
        m = np.stack([standing_pose(x=v*t) for t in range(frames)]).astype(np.float32)
        m[:, 12:16] += 0.05*np.sin(np.arange(frames)/3.0 + i)[:, None]
        e = rng.normal(size=dim).astype(np.float32); e /= np.linalg.norm(e)
        out.append(make_sample(m, np.full(frames, i % 4), f"toy clip {i}", embedding=e))
    return out


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    p = tmp_path_factory.mktemp('data')/'toy.pt'
    save_samples(toy_samples(), p)
    return p


@pytest.fixture(scope='module')
def pretrained(data, tmp_path_factory):
    "One tiny pretraining run (2 epochs, EMA on) shared by the checkpoint, determinism and stage tests."
    d = tmp_path_factory.mktemp('pre')
    return d, T.train('tiny', data_path=data, checkpoint_dir=d, ema=True, **FAST)


def weights(path):
    return load_checkpoint(path)['model_state_dict']


def same_weights(a, b):
    return sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a)


# --- config and precedence ------------------------------------------------------------------------------

def test_precedence_resume_init_data(monkeypatch, tmp_path):
    cfg = load_config({'training': {'resume_from': 'c.pth', 'init_from': 'ci.pth'}, 'data': {'train_data': 'c.pt'}})
    env = {}
    assert resolve_sources(cfg, env=env)['resume_from'] == 'c.pth'
    env = {ENV_RESUME: 'e.pth', ENV_INIT: 'ei.pth', ENV_DATA: 'e.pt'}
    r = resolve_sources(cfg, env=env)
    assert (r['resume_from'], r['init_from'], r['data_path']) == ('e.pth', 'ei.pth', 'e.pt')
    assert r['resume_from_source'] == f'env {ENV_RESUME}'
    r = resolve_sources(cfg, resume_from='p.pth', init_from='pi.pth', data_path='p.pt', env=env)
    assert (r['resume_from'], r['init_from'], r['data_path']) == ('p.pth', 'pi.pth', 'p.pt')
    assert resolve_sources(cfg, env={ENV_RESUME: '  '})['resume_from'] == 'c.pth'     # blank env = unset
    # the same through train()'s resolver, reading the real environment
    monkeypatch.setenv(ENV_DATA, str(tmp_path/'env.pt'))
    c, run = T.resolve_run('tiny', checkpoint_dir=tmp_path/'ck')
    assert run['data'] == str(tmp_path/'env.pt') and c.sources['data_path_source'] == f'env {ENV_DATA}'
    c, run = T.resolve_run('tiny', data_path='cli.pt', checkpoint_dir=tmp_path/'ck')
    assert run['data'] == 'cli.pt'
    # 'auto' resume: nothing there yet -> fresh start
    c, run = T.resolve_run('tiny', resume_from='auto', checkpoint_dir=tmp_path/'ck')
    assert run['resume_from'] is None


def test_config_errors(tmp_path):
    with pytest.raises(StickgenError, match="did you mean 'learning_rate'"): load_config({'training': {'learning_rte': 1}})
    with pytest.raises(StickgenError, match="did you mean 'training'"): load_config({'trainng': {}})
    with pytest.raises(StickgenError, match="did you mean 'd_model'"): load_config({'model': {'d_modl': 64}})
    with pytest.raises(StickgenError, match="did you mean 'epochs'"): T.train('tiny', epoch=3)
    bad = tmp_path/'bad.yaml'; bad.write_text('training: [1, 2\n')
    with pytest.raises(StickgenError, match='not valid YAML'): load_config(str(bad))
    with pytest.raises(StickgenError, match="did you mean 'tiny'"): load_config('tinny')
    with pytest.raises(StickgenError, match='not found'): T.train('tiny', data_path=tmp_path/'missing.pt', checkpoint_dir=tmp_path/'c')
    # every shipped config loads, with the reference hyper-parameters
    for name, (bs, acc, ep, lr, wu) in dict(small=(1, 16, 30, 3e-4, 5), medium=(2, 32, 50, 3e-4, 10), large=(4, 64, 100, 3e-4, 15),
                                            sft_small=(1, 16, 15, 1e-4, 2), sft_medium=(2, 32, 20, 1e-4, 3), sft_large=(4, 64, 25, 5e-5, 5)).items():
        t = load_config(name).training
        assert (t.batch_size, t.grad_accum_steps, t.epochs, t.learning_rate, t.warmup_epochs) == (bs, acc, ep, lr, wu), name
    assert load_config('sft_large').lora.rank == 16 and load_config('sft_small').model.d_model == 256


# --- checkpoints ----------------------------------------------------------------------------------------

def test_checkpoint_contents_and_release(pretrained):
    tmp_path, res = pretrained
    ck = torch.load(tmp_path/'checkpoint_epoch_1.pth', weights_only=True)   # loads without pickle
    for k in ('epoch', 'global_step', 'model_state_dict', 'optimizer_state_dict', 'scheduler_state_dict', 'best_val_loss',
              'train_loss', 'val_loss', 'aux_metrics', 'config', 'stage', 'rng_state', 'ema_state_dict'):
        assert k in ck, k
    assert ck['epoch'] == 1 and ck['global_step'] == res['global_step'] == 2*res['steps_per_epoch']
    assert ck['stage'] == 'pretrain' and ck['config']['model']['variant'] == 'tiny'
    assert (tmp_path/'model_checkpoint_best.pth').exists() and (tmp_path/'model.safetensors').exists()
    recs = [json.loads(l) for l in (tmp_path/'metrics.jsonl').read_text().splitlines()]
    assert [r['epoch'] for r in recs if r['split'] == 'val'] == [0, 1]
    # load_model: .pth (EMA weights) and the release safetensors give the same model
    m1, c1 = load_model(tmp_path)
    m2, c2 = load_model(tmp_path/'model.safetensors')
    assert same_weights(m1.state_dict(), m2.state_dict()) and not m1.training
    assert c1.model == c2.model and c1.training == c2.training


def test_atomic_save_survives_failure(tmp_path, monkeypatch):
    p = tmp_path/'ck.pth'
    atomic_save(dict(model_state_dict={'w': torch.ones(3)}, global_step=1), p)
    real_save = torch.save
    def dying_save(obj, f, *a, **k):
        f.write(b'partial garbage'); raise KeyboardInterrupt('killed mid-write')
    monkeypatch.setattr(torch, 'save', dying_save)
    with pytest.raises(KeyboardInterrupt): atomic_save(dict(model_state_dict={'w': torch.zeros(3)}, global_step=2), p)
    monkeypatch.setattr(torch, 'save', real_save)
    assert load_checkpoint(p)['global_step'] == 1
    assert [q.name for q in tmp_path.iterdir()] == ['ck.pth']
    p.write_bytes(b'torn')
    with pytest.raises(StickgenError, match='not a readable'): load_checkpoint(p)


def test_determinism_same_seed(data, pretrained, tmp_path):
    a = pretrained[0]
    T.train('tiny', data_path=data, checkpoint_dir=tmp_path/'b', ema=True, **FAST)
    assert same_weights(weights(a/'checkpoint_epoch_1.pth'), weights(tmp_path/'b'/'checkpoint_epoch_1.pth'))
    strip = lambda p: [{k: v for k, v in json.loads(l).items() if 'seconds' not in k and 'per_s' not in k}
                       for l in (p/'metrics.jsonl').read_text().splitlines()]
    assert strip(a) == strip(tmp_path/'b')
    c = T.train('tiny', data_path=data, checkpoint_dir=tmp_path/'c', **{**FAST, 'seed': 7, 'max_minutes': 1e-9, 'bf16': True})
    assert c['global_step'] == 1 and c['stopped_by'] == 'max_minutes'        # the time budget stops after a step
    assert np.isfinite(c['train_loss'])                                       # bf16 autocast on CPU trains too
    assert not same_weights(weights(a/'checkpoint_epoch_0.pth'), weights(tmp_path/'c'/'checkpoint_epoch_0.pth'))


def _cli(args, env=None, **kw):
    e = {**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})}
    return subprocess.run([sys.executable, '-m', 'stickgen.cli', 'train', *map(str, args)], env=e, cwd=REPO, capture_output=True, text=True, **kw)


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(data, tmp_path):
    args = ['--config', 'tiny', '--data_path', data, *FAST_ARGS, '--epochs', '3', '--set', 'ema=true', '--set', 'window=12']
    full = _cli([*args, '--checkpoint_dir', tmp_path/'full'])
    assert full.returncode == 0, full.stderr[-2000:]
    steps_per_epoch = json.loads((tmp_path/'full'/'train_result.json').read_text())['steps_per_epoch']
    assert steps_per_epoch >= 2
    kill_at = steps_per_epoch + 1                      # first optimizer step of epoch 2 of 3: mid-epoch
    killed = _cli([*args, '--checkpoint_dir', tmp_path/'cut'], env={'STICKGEN_KILL_AT_STEP': str(kill_at)})
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path/'cut'/'checkpoint_epoch_1.pth').exists() and (tmp_path/'cut'/'checkpoint_epoch_0.pth').exists()
    resumed = _cli([*args, '--checkpoint_dir', tmp_path/'cut'], env={ENV_RESUME: 'auto'})
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = load_checkpoint(tmp_path/'full'/'checkpoint_epoch_2.pth'), load_checkpoint(tmp_path/'cut'/'checkpoint_epoch_2.pth')
    assert a['global_step'] == b['global_step'] == 3*steps_per_epoch
    assert same_weights(a['model_state_dict'], b['model_state_dict'])
    assert same_weights(a['ema_state_dict']['shadow'], b['ema_state_dict']['shadow'])
    assert a['val_loss'] == b['val_loss']
    # the resumed run's metrics.jsonl is the uninterrupted one (no duplicated steps)
    steps = lambda p: [(r['split'], r['step']) for r in map(json.loads, (p/'metrics.jsonl').read_text().splitlines())]
    assert steps(tmp_path/'cut') == steps(tmp_path/'full')


# --- stages -----------------------------------------------------------------------------------------------

def test_pretrain_sft_lora_chain(data, pretrained, tmp_path):
    best = pretrained[0]/'model_checkpoint_best.pth'
    # SFT: weights from pretrain, fresh optimizer / schedule / epoch counter
    sft = T.train('sft_tiny', data_path=data, checkpoint_dir=tmp_path/'sft', init_from=best, **{**FAST, 'epochs': 1})
    ck = load_checkpoint(tmp_path/'sft'/'checkpoint_epoch_0.pth')
    assert ck['stage'] == 'sft' and ck['epoch'] == 0 and ck['global_step'] == sft['steps_per_epoch']
    assert ck['config']['_sources']['init_from'] == str(best)
    assert not same_weights(ck['model_state_dict'], weights(best))            # it trained ...
    model0, _ = load_model(best)
    init = T.build_run_model(load_config('sft_tiny'), init_from=best)
    assert same_weights(init.state_dict(), model0.state_dict())               # ... starting from the pretrain (EMA) weights
    # LoRA on the SFT model: adapters only, base frozen
    sft_best = tmp_path/'sft'/'model_checkpoint_best.pth'
    lo = T.train('sft_tiny', data_path=data, checkpoint_dir=tmp_path/'lora', init_from=sft_best, use_lora=True, **{**FAST, 'epochs': 1})
    assert lo['stage'] == 'lora' and lo['parameters']['trainable'] < 0.2*lo['parameters']['total']
    ck = load_checkpoint(tmp_path/'lora'/'checkpoint_epoch_0.pth')
    assert ck['lora_state_dict'] and all('lora_' in k for k in ck['lora_state_dict'])
    base_after = {k.replace('.base_layer', ''): v for k, v in ck['model_state_dict'].items() if 'lora_' not in k}
    sft_model, _ = load_model(sft_best)
    assert same_weights(base_after, sft_model.state_dict())                    # the base did not move
    # the merged release model = base + adapter, as a plain model
    m_lora, cfg = load_model(tmp_path/'lora'/'model_checkpoint_best.pth')
    m_rel, _ = load_model(tmp_path/'lora'/'model.safetensors')
    assert not any('lora_' in k for k in m_rel.state_dict())
    emb = torch.randn(1, 384)
    g1 = m_lora.generate(emb, num_frames=12, steps=2, seed=3)['motion']
    g2 = m_rel.generate(emb, num_frames=12, steps=2, seed=3)['motion']
    torch.testing.assert_close(g1, g2, atol=1e-4, rtol=1e-4)


def test_cli_errors_are_one_line(tmp_path):
    r = subprocess.run([str(Path(sys.executable).parent/'stickgen'), 'train', '--config', 'tiny', '--set', 'training.lr=1'],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and "unknown key 'training.lr'" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_default_data_is_generated(tmp_path, monkeypatch):
    "No data on a fresh machine: the config's embedded default is generated (here by a stand-in), then trained on."
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_DATA, raising=False)
    made = []
    def fake_corpus(path, num_samples=2000, seed=0, **kw):
        made.append((str(path), num_samples)); return save_samples(toy_samples(), path)
    monkeypatch.setattr(T, 'generate_default_corpus', fake_corpus)
    res = T.train(str(REPO/'configs'/'tiny.yaml'), checkpoint_dir=tmp_path/'ck', **{**FAST, 'max_steps': 1, 'epochs': 1})
    assert made == [('data/train_data_embedded.pt', load_config('tiny').data.synthetic_samples)]
    assert res['global_step'] == 1 and (tmp_path/'data'/'train_data_embedded.pt').exists()
