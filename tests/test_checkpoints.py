"The one door to a trained model (stickgen.checkpoints): which file a run means, safe loading, legacy configs, the release."
import argparse, json, os, time
from pathlib import Path
import pytest
import torch
from stickgen.schema import StickgenError, atomic_save
from stickgen.config import load_config, RunConfig
from stickgen.model import build_model
from stickgen.checkpoints import (find_checkpoint, find_checkpoints, resume_checkpoint, newest_run_checkpoint, load_checkpoint,
                                  load_model, export_release, epoch_checkpoints)

CFG = load_config('tiny', {'model.d_model': 32, 'model.num_layers': 1, 'model.nhead': 2})


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return build_model(CFG.model)


def write(path, net, cfg=CFG, **kw):
    return atomic_save(dict(model_state_dict=net.state_dict(), config=cfg.to_dict(), **kw), path)


def test_one_rule(tmp_path, net):
    run = tmp_path/'runs'/'tiny'/'pretrain'
    for n in (0, 2, 10): write(run/f'checkpoint_epoch_{n}.pth', net, epoch=n)
    assert [p.name for p in epoch_checkpoints(run)][-1] == 'checkpoint_epoch_10.pth'      # by number, not by name
    assert find_checkpoint(run).name == 'checkpoint_epoch_10.pth'
    write(run/'model_checkpoint_best.pth', net, epoch=2)
    assert find_checkpoint(run).name == 'model_checkpoint_best.pth'                      # the best one wins
    assert resume_checkpoint(run).name == 'checkpoint_epoch_10.pth'                      # resuming wants the latest state
    write(run/'previous'/'20250101-000000'/'model_checkpoint_best.pth', net, epoch=99)   # an archived run
    write(tmp_path/'runs'/'.hidden'/'model_checkpoint_best.pth', net)
    assert find_checkpoints(tmp_path/'runs') == [run/'model_checkpoint_best.pth']
    with pytest.raises(StickgenError, match='no model_checkpoint_best.pth or checkpoint_epoch_N.pth'): find_checkpoint(tmp_path)


def test_default_is_the_newest_run(tmp_path, net):
    a, b = tmp_path/'a', tmp_path/'b'
    write(a/'checkpoint_epoch_0.pth', net); write(a/'model_checkpoint_best.pth', net)
    write(b/'model_checkpoint_best.pth', net)
    os.utime(b/'model_checkpoint_best.pth', (1000, 1000)); os.utime(a/'model_checkpoint_best.pth', (1000, 1000))
    os.utime(a/'checkpoint_epoch_0.pth', (time.time(), time.time()))         # run a was written last ...
    assert newest_run_checkpoint(tmp_path) == a/'model_checkpoint_best.pth'       # ... and means its best checkpoint
    assert newest_run_checkpoint(tmp_path/'none') is None


def test_unsafe_and_broken_files_are_refused(tmp_path, net, capsys):
    torch.save(dict(model_state_dict={}, args=argparse.Namespace(lr=1)), tmp_path/'pickled.pth')
    with pytest.raises(StickgenError) as e: load_checkpoint(tmp_path/'pickled.pth')
    msg = str(e.value)
    assert 'was not loaded' in msg and 'not plain tensors (argparse.Namespace)' in msg and 'if you trust the file' in msg
    assert '\n' not in msg
    (tmp_path/'torn.pth').write_bytes(b'torn')
    with pytest.raises(StickgenError, match='is not a readable stickgen checkpoint'): load_checkpoint(tmp_path/'torn.pth')
    torch.save(dict(weights={}), tmp_path/'other.pth')
    with pytest.raises(StickgenError, match="no 'model_state_dict'"): load_checkpoint(tmp_path/'other.pth')
    write(tmp_path/'run'/'checkpoint_epoch_0.pth', net); (tmp_path/'run'/'checkpoint_epoch_1.pth').write_bytes(b'torn')
    assert resume_checkpoint(tmp_path/'run').name == 'checkpoint_epoch_0.pth'
    assert 'cannot be read' in capsys.readouterr().out


def test_legacy_plain_dict_config_loads(tmp_path, net):
    "Checkpoints written before the schema was typed: a plain dict with only the keys the YAML named, plus _sources."
    legacy = dict(variant='tiny', config_path='configs/tiny.yaml', _sources=dict(data_path='d.pt', data_path_source='config'),
                  model=dict(variant='tiny', d_model=32, num_layers=1, nhead=2, embedding_dim=384),
                  training=dict(stage='pretrain', batch_size=8, epochs=3, learning_rate=1e-3), loss=dict(pose=1.0, temporal=0.1),
                  lora=dict(enabled=False, rank=4, alpha=8, dropout=0.05, target_modules=['transformer_encoder', 'pose_decoder']))
    atomic_save(dict(model_state_dict=net.state_dict(), config=legacy, epoch=0), tmp_path/'old.pth')
    m, cfg = load_model(tmp_path/'old.pth')
    assert isinstance(cfg, RunConfig) and cfg.sources['data_path'] == 'd.pt' and cfg.training.batch_size == 8
    assert all(torch.equal(m.state_dict()[k], net.state_dict()[k]) for k in net.state_dict())


def test_release_roundtrip_and_no_leftovers(tmp_path, net):
    ck = write(tmp_path/'model_checkpoint_best.pth', net, epoch=4, global_step=40, stage='sft', val_loss=0.5)
    rel = export_release(ck)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['config.json', 'model.safetensors', 'model_checkpoint_best.pth']
    meta = json.loads(rel['config'].read_text())
    assert (meta['epoch'], meta['stage'], meta['merged_lora'], meta['config']['lora']['enabled']) == (4, 'sft', False, False)
    m1, c1 = load_model(tmp_path/'model_checkpoint_best.pth'); m2, c2 = load_model(rel['weights'])
    assert c1.model == c2.model and all(torch.equal(m1.state_dict()[k], m2.state_dict()[k]) for k in m1.state_dict())
    # a failing write leaves the previous release intact and no temporary file behind
    import stickgen.checkpoints as C
    before = rel['weights'].read_bytes()
    def boom(model, path, metadata=None): Path(path).write_bytes(b'half'); raise KeyboardInterrupt('killed')
    orig = C.save_model; C.save_model = boom
    try:
        with pytest.raises(KeyboardInterrupt): export_release(ck)
    finally: C.save_model = orig
    assert rel['weights'].read_bytes() == before and not list(tmp_path.glob('.*tmp'))
