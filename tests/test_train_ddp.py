"2-process DDP (torchrun, gloo on CPU) against 1 process with the same global batch."
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch
from stickgen.schema import save_samples
from stickgen import train as T
from stickgen.checkpoints import load_checkpoint
from test_train import toy_samples, same_weights, REPO

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason='torch.distributed not built')

# A deterministic model (no dropout, no diffusion noise), so the two layouts must agree to float precision.
SCRIPT = textwrap.dedent('''
    import sys, torch
    from stickgen import train as T
    class Det(torch.nn.Module):
        def __init__(self):
            super().__init__(); torch.manual_seed(0)
            self.lin = torch.nn.Sequential(torch.nn.Linear(20 + 384, 32), torch.nn.Tanh(), torch.nn.Linear(32, 20))
        def compute_loss(self, batch, weights=None):
            m, e = batch['motion'], batch['embedding']
            x = torch.cat([m, e[:, None].expand(-1, m.shape[1], -1)], -1)
            loss = ((self.lin(x) - m)**2).mean()
            return loss, dict(pose=float(loss.detach()))
    data, out, bs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    T.train('tiny', model=Det(), data_path=data, checkpoint_dir=out, epochs=2, batch_size=bs, grad_accum_steps=2,
            window=24, log_every=1, val_aux_samples=0, tensorboard=False, progress=False, val_fraction=0.2, warmup_epochs=1)
''')

def torchrun(n, *args):
    e = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={n}', *map(str, args)],
                          env=e, cwd=REPO, capture_output=True, text=True, timeout=300)

def curve(d): return [json.loads(l) for l in (Path(d)/'metrics.jsonl').read_text().splitlines()]

def test_ddp_two_processes_match_one(tmp_path):
    data = tmp_path/'toy.pt'; save_samples(toy_samples(n=20), data)      # 16 train clips: 2 steps/epoch of global batch 8
    script = tmp_path/'det.py'; script.write_text(SCRIPT)
    one = subprocess.run([sys.executable, str(script), str(data), str(tmp_path/'one'), '4'], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert one.returncode == 0, one.stderr[-2000:]
    two = torchrun(2, script, data, tmp_path/'two', 2)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = curve(tmp_path/'one'), curve(tmp_path/'two')
    assert [(r['split'], r['step']) for r in a] == [(r['split'], r['step']) for r in b]
    for ra, rb in zip(a, b):
        for k in ('loss', 'train_loss', 'val_loss', 'lr'):
            if k in ra: assert ra[k] == pytest.approx(rb[k], rel=1e-5, abs=1e-7), (k, ra, rb)
    wa, wb = load_checkpoint(tmp_path/'one'/'checkpoint_epoch_1.pth'), load_checkpoint(tmp_path/'two'/'checkpoint_epoch_1.pth')
    assert wb['world_size'] == 2
    for k in wa['model_state_dict']: torch.testing.assert_close(wa['model_state_dict'][k], wb['model_state_dict'][k], rtol=1e-5, atol=1e-6)
    assert not list((tmp_path/'two').glob('*rank*'))                          # rank 0 alone writes

def test_train_nproc2_launches_torchrun_on_tiny(tmp_path):
    "The real tiny variant through train(nproc=2): torchrun, DDP, rank-0 checkpoints; diffusion noise differs per process,"
    "so its curve is compared with the 1-process run loosely."
    data = tmp_path/'toy.pt'; save_samples(toy_samples(n=20), data)
    kw = dict(data_path=data, epochs=1, grad_accum_steps=1, window=24, log_every=1, val_aux_samples=0, tensorboard=False,
              progress=False, val_fraction=0.2, warmup_epochs=0, learning_rate=1e-4)
    r2 = T.train('tiny', checkpoint_dir=tmp_path/'two', nproc=2, batch_size=4, **kw)
    r1 = T.train('tiny', checkpoint_dir=tmp_path/'one', batch_size=8, **kw)
    assert r2['world_size'] == 2 and r1['world_size'] == 1 and r2['global_step'] == r1['global_step'] == 2
    assert (tmp_path/'two'/'model_checkpoint_best.pth').exists() and (tmp_path/'two'/'model.safetensors').exists()
    assert r2['val_loss'] == pytest.approx(r1['val_loss'], rel=0.1)
