"""Hostile inputs through the real CLIs (issue #17): every bad input is exit 2 with one line naming what and where,
no traceback, no existing file changed, nothing new left behind. The catalogue is tests/hostile.py (also run by
bench/hostile_probe.py for the closing figures). Kill and concurrency experiments are marked `slow` (skipped by
default; `pytest -m slow tests/test_hostile_inputs.py`)."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import given, settings, HealthCheck, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import hostile
from stickgen.schema import StickgenError, SchemaError, save_samples, load_samples, PathLock
from stickgen.storage import SampleStore, write_samples, open_samples
from stickgen.renderer import load_motion, export_motion
from stickgen.checkpoints import load_checkpoint, BEST

CASES = hostile.cli_cases() + hostile.api_cases()
HYP = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope='module')
def F(tmp_path_factory):
    return hostile.make_fixtures(tmp_path_factory.mktemp('fixtures'))


@pytest.fixture(scope='module')
def work(tmp_path_factory): return tmp_path_factory.mktemp('work')


@pytest.mark.parametrize('case', CASES, ids=[f"{c.family}: {c.name}" for c in CASES])
def test_refused_cleanly(case, F, work):
    r = hostile.run_case(case, F, work)
    if r.outcome == 'skipped': pytest.skip(r.err)
    assert r.ok, hostile.describe_failure(r)


def test_catalogue_covers_the_issue():
    "Every family the issue names has cases, and the catalogue is the probe's size."
    fam = {c.family for c in CASES}
    assert {'config', 'train inputs', 'eval inputs', 'bounds', 'render inputs', 'clobber', 'stores', 'unwritable', 'api', 'merge/curate'} <= fam
    assert len(CASES) >= 218
    writers = {c.name.split(' into')[0] for c in CASES if c.family == 'unwritable'}
    assert {'render', 'generate-data .pt', 'embed', 'convert', 'merge', 'curate', 'train', 'train-evaluator', 'eval', 'adversarial-eval', 'demo', 'stick-gen'} <= writers


def test_some_cases_through_real_processes(F, work):
    "The console entry points themselves: exit status 2 and one stderr line, in a fresh interpreter."
    picks = [c for c in CASES if c.name in ('render --width 0', 'eval --checkpoint /nope.pth', 'stick-gen --min-adherence nan', 'train --config alias_bomb.yaml')]
    assert len(picks) == 4
    for c in picks:
        r = hostile.run_case(c, F, work/'sub', timeout=120, subprocess_run=True)
        assert r.ok, hostile.describe_failure(r)


# --- hypothesis: families of values, not single cases ------------------------------------------------------

def _flag(F, work, argv, mention):
    r = hostile.run_case(hostile.Case('hypothesis', 'h', argv=argv, mention=mention), F, work/'hyp')
    assert r.ok, hostile.describe_failure(r)

bad_ints = st.one_of(st.integers(max_value=15), st.integers(min_value=8193, max_value=10**12)).map(str) | st.sampled_from(['', 'x', '1.5', '1e3', 'nan'])
bad_unit = st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not (0 <= x <= 1)).map(repr), st.sampled_from(['', 'half', 'nan', 'inf', '-0.01']))

@HYP
@given(w=bad_ints)
def test_render_width_family(F, work, w):
    _flag(F, work, ['stickgen', 'render', '{F}/one.pt', '--output', '{d}/o.mp4', '--width=' + w], '--width')

@HYP
@given(v=bad_unit)
def test_min_adherence_family(F, work, v):
    _flag(F, work, ['stick-gen', 'a person waves', '--output', '{d}/s.mp4', '--checkpoint', 'procedural', '--min-adherence=' + v], '--min-adherence')

@HYP
@given(v=bad_unit.filter(lambda s: s not in ("0.0",)), flag=st.sampled_from(['--max-source-fraction', '--min-quality-sft', '--max-artifact-sft', '--min-camera-stability-sft']))
def test_curate_fraction_family(F, work, v, flag):
    _flag(F, work, ['stickgen', 'curate', '--input', '{F}/toy.pt', '--output-dir', '{d}/c', f'{flag}={v}'], flag)

@HYP
@given(key=st.sampled_from(['batch_size', 'epochs', 'learning_rate', 'warmup_epochs', 'max_grad_norm', 'data.val_fraction', 'data.window']),
       value=st.sampled_from(['-1', 'eight', 'nan', '.inf', '[1, 2]', '{a: 1}', '-1e9']))
def test_train_set_family(F, work, key, value):
    if key in ('learning_rate', 'max_grad_norm', 'warmup_epochs') and value == '-1e9' or (key == 'warmup_epochs' and value == '-1'): value = 'eight'
    _flag(F, work, ['stickgen', 'train', '--data_path', '{F}/toy.pt', '--checkpoint_dir', '{d}/ck', '--set', f'{key}={value}'], key.split('.')[-1])


@HYP
@given(edit=st.sampled_from(['drop', 'retype', 'negate', 'huge']), key=st.sampled_from(['shards', 'fields', 'num_samples', 'format', 'version', 'columns']))
def test_store_meta_mutations(F, tmp_path_factory, edit, key):
    "Any damage to meta.json: the store opens and reads, or raises one StickgenError; never another exception."
    d = tmp_path_factory.mktemp('meta')/'s'; shutil.copytree(F/'store', d)
    m = json.loads((d/'meta.json').read_text())
    if edit == 'drop': m.pop(key, None)
    elif edit == 'retype': m[key] = 'x' if not isinstance(m.get(key), str) else 7
    elif edit == 'negate': m[key] = -1
    else: m[key] = 10**12 if not isinstance(m.get(key), list) else m[key]*1000
    (d/'meta.json').write_text(json.dumps(m))
    try:
        s = SampleStore(d); [s[i] for i in range(len(s))]
    except StickgenError: pass


@HYP
@given(cut=st.floats(0.0, 0.99), name=st.sampled_from(['motion.npy', 'index.npy', 'meta.jsonl', 'actions.npy', 'camera.npy']))
def test_store_truncation(F, tmp_path_factory, cut, name):
    d = tmp_path_factory.mktemp('trunc')/'s'; shutil.copytree(F/'store', d)
    f = d/'shard_00000'/name; b = f.read_bytes(); f.write_bytes(b[:int(len(b)*cut)])
    with pytest.raises(StickgenError): s = SampleStore(d); s.check(); [s[i] for i in range(len(s))]; s.descriptions()


@HYP
@given(path=st.sampled_from(['meta.fps', 'meta.frames', 'meta.actors', 'meta.version', 'motion', 'actions', 'camera', 'skeleton']),
       value=st.sampled_from([None, 0, -1, 1e308, 'x', [], {}, [[[[1]]]], True, 1.5]))
def test_motion_file_mutations(F, tmp_path_factory, path, value):
    "A .motion file with any field replaced loads as a valid sample or raises one SchemaError naming the file."
    d = json.loads((F/'ok.motion').read_text())
    parts = path.split('.'); tgt = d
    for p in parts[:-1]: tgt = tgt[p]
    if value is None: tgt.pop(parts[-1], None)
    else: tgt[parts[-1]] = value
    f = tmp_path_factory.mktemp('mot')/'x.motion'; f.write_text(json.dumps(d))
    try: load_motion(f)
    except SchemaError as e: assert str(f) in str(e)


# --- kills and neighbours (slow) ---------------------------------------------------------------------------

def _cli(args, cwd, env=None, **kw):
    e = {**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})}
    return subprocess.run([sys.executable, '-m', 'stickgen.cli', *map(str, args)], env=e, cwd=cwd, capture_output=True, text=True, **kw)

def _popen(args, cwd, env=None):
    e = {**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})}
    return subprocess.Popen([sys.executable, '-m', 'stickgen.cli', *map(str, args)], env=e, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def _wait_for(pred, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred(): return True
        time.sleep(0.02)
    return False

def _hidden(d): return sorted(p.name for p in Path(d).iterdir() if p.name.startswith('.'))

TRAIN = ['train', '--config', 'tiny', '--epochs', '4', '--batch_size', '4', '--set', 'tensorboard=false', '--set', 'progress=false', '--set', 'log_every=1',
         '--set', 'val_aux_samples=0', '--set', 'window=16', '--set', 'val_fraction=0.2', '--set', 'warmup_epochs=1', '--set', 'ema=true',
         '--set', 'model.d_model=32', '--set', 'model.num_layers=1', '--set', 'model.nhead=2']

def _weights(p): return load_checkpoint(p)['model_state_dict']

def _same(a, b): return sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a)

def _release(d):
    from safetensors.torch import load_file
    return load_file(str(Path(d)/'model.safetensors'))


@pytest.mark.slow
@pytest.mark.parametrize('victim', ['checkpoint_epoch_3.pth', 'model_checkpoint_best.pth#last'])   # the last epoch's checkpoint / the last best
def test_kill_when_a_checkpoint_appears_then_resume(F, tmp_path, victim):
    "Killed the moment a checkpoint file appears, resumed with auto: the best checkpoint and the release equal the uninterrupted run's."
    args = [*TRAIN, '--data_path', F/'toy.pt']
    full = _cli([*args, '--checkpoint_dir', tmp_path/'full'], tmp_path); assert full.returncode == 0, full.stderr[-2000:]
    if victim.endswith('#last'):                                       # the k-th save of the best: k = the full run's improvements
        val = [json.loads(l)['val_loss'] for l in (tmp_path/'full'/'metrics.jsonl').read_text().splitlines() if json.loads(l)['split'] == 'val']
        k = sum(v < min(val[:i], default=float('inf')) for i, v in enumerate(val)); assert k >= 1
        victim = f"{BEST}#{k}"
    cut = _cli([*args, '--checkpoint_dir', tmp_path/'cut'], tmp_path, env={'STICKGEN_KILL_AFTER_SAVE': victim})
    assert cut.returncode == -signal.SIGKILL, cut.stderr[-2000:]
    again = _cli([*args, '--checkpoint_dir', tmp_path/'cut', '--resume_from', 'auto'], tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert 'took over the lock' in again.stderr                      # the killed run's lock, taken over with a note
    a, b = load_checkpoint(tmp_path/'full'/BEST), load_checkpoint(tmp_path/'cut'/BEST)
    assert (a['epoch'], a['global_step'], a['val_loss']) == (b['epoch'], b['global_step'], b['val_loss'])
    assert _same(a['model_state_dict'], b['model_state_dict']) and _same(a['ema_state_dict']['shadow'], b['ema_state_dict']['shadow'])
    assert _same(_release(tmp_path/'full'), _release(tmp_path/'cut'))
    assert json.loads((tmp_path/'cut'/'train_result.json').read_text())['best_val_loss'] == a['best_val_loss']
    assert _hidden(tmp_path/'cut') == [] and not (tmp_path/'.cut.lock').exists()


@pytest.mark.slow
def test_time_budget_stop_inside_an_epoch_resumes_at_the_exact_step(F, tmp_path):
    "A run stopped by its time budget after one step of a 2-step epoch, resumed: the same weights as never stopping."
    args = [*TRAIN, '--data_path', F/'toy.pt']
    full = _cli([*args, '--checkpoint_dir', tmp_path/'full'], tmp_path); assert full.returncode == 0, full.stderr[-2000:]
    spe = json.loads((tmp_path/'full'/'train_result.json').read_text())['steps_per_epoch']; assert spe >= 2
    cut = _cli([*args, '--checkpoint_dir', tmp_path/'cut', '--set', 'max_minutes=1e-9'], tmp_path)
    res = json.loads((tmp_path/'cut'/'train_result.json').read_text())
    assert cut.returncode == 0 and res['stopped_by'] == 'max_minutes' and res['global_step'] == 1
    assert load_checkpoint(tmp_path/'cut'/'checkpoint_epoch_0.pth')['epoch_micro'] == 1
    again = _cli([*args, '--checkpoint_dir', tmp_path/'cut', '--resume_from', 'auto'], tmp_path); assert again.returncode == 0, again.stderr[-2000:]
    a, b = load_checkpoint(tmp_path/'full'/'checkpoint_epoch_3.pth'), load_checkpoint(tmp_path/'cut'/'checkpoint_epoch_3.pth')
    assert a['global_step'] == b['global_step'] == 4*spe
    assert _same(a['model_state_dict'], b['model_state_dict'])
    assert a['train_loss'] == b['train_loss']                         # the interrupted epoch's mean loss too


@pytest.mark.slow
def test_second_train_into_a_live_run_refuses(F, tmp_path):
    args = [*TRAIN, '--data_path', F/'toy.pt', '--checkpoint_dir', tmp_path/'ck', '--epochs', '30']
    first = _popen(args, tmp_path)
    assert _wait_for(lambda: (tmp_path/'.ck.lock').exists() and (tmp_path/'ck'/'metrics.jsonl').exists())
    second = _cli(args, tmp_path)
    out1, err1 = first.communicate(timeout=600)
    assert second.returncode == 2 and second.stderr.count('error:') == 1 and 'is locked: pid' in second.stderr, second.stderr
    assert first.returncode == 0, err1[-2000:]
    assert not (tmp_path/'ck'/'previous').exists()                   # nothing of the live run was moved aside
    steps = [json.loads(l)['step'] for l in (tmp_path/'ck'/'metrics.jsonl').read_text().splitlines() if json.loads(l)['split'] == 'train']
    assert steps == sorted(steps) and len(steps) == len(set(steps))   # one run's records, not two interleaved


@pytest.mark.slow
def test_two_writers_of_one_store(F, tmp_path):
    "A second generate-data into a store being written refuses; an open SampleStore notices the rewrite."
    write_samples(load_samples(F/'one.pt'), tmp_path/'st')
    reader = SampleStore(tmp_path/'st'); reader[0]
    big = _popen(['generate-data', '--num-samples', '3000', '--output', tmp_path/'st', '--quiet'], tmp_path)
    assert _wait_for(lambda: (tmp_path/'.st.lock').exists())
    second = _cli(['generate-data', '--num-samples', '4', '--output', tmp_path/'st', '--quiet'], tmp_path)
    assert big.poll() is None                                          # the first writer was still writing
    assert second.returncode == 2 and 'is locked' in second.stderr, second.stderr
    assert big.wait(timeout=900) == 0
    assert len(SampleStore(tmp_path/'st')) == 3000
    with pytest.raises(StickgenError, match='rewritten after it was opened'): reader[1]
    assert _hidden(tmp_path) == []


@pytest.mark.slow
def test_killed_writers_leave_the_old_output_and_no_orphans(F, tmp_path):
    "SIGKILL mid-render and mid-store-write: the previous file / store is intact; the next writer sweeps the leftovers."
    old = b'the previous clip'
    (tmp_path/'s.mp4').write_bytes(old)
    p = subprocess.Popen([sys.executable, '-c', 'import sys; from stickgen.cli import stick_gen_main; sys.exit(stick_gen_main())',
                          'a person walks and waves', '--output', str(tmp_path/'s.mp4'), '--checkpoint', 'procedural', '--duration', '60', '--no-safety'],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _wait_for(lambda: any(n.endswith('.tmp') and n.startswith('.s.mp4.') for n in os.listdir(tmp_path)))
    time.sleep(0.5); p.kill(); p.wait()
    assert (tmp_path/'s.mp4').read_bytes() == old                     # never a stump
    assert _hidden(tmp_path)                                          # the kill left its temporary (and lock) ...
    r = subprocess.run([sys.executable, '-c', 'import sys; from stickgen.cli import stick_gen_main; sys.exit(stick_gen_main())',
                        'a person waves', '--output', str(tmp_path/'s.mp4'), '--checkpoint', 'procedural', '--duration', '2'], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _hidden(tmp_path) == [] and (tmp_path/'s.mp4').read_bytes() != old   # ... which the next writer cleared
    # a store being rewritten, killed: the old store stays whole
    write_samples(load_samples(F/'one.pt'), tmp_path/'st')
    g = _popen(['generate-data', '--num-samples', '2000', '--output', tmp_path/'st', '--quiet'], tmp_path)
    assert _wait_for(lambda: any(n.startswith('.st.') and n.endswith('.tmp') for n in os.listdir(tmp_path)))
    time.sleep(1.0); g.kill(); g.wait()
    assert len(SampleStore(tmp_path/'st')) == 2 and [s['description'] for s in SampleStore(tmp_path/'st')] == [s['description'] for s in load_samples(F/'one.pt')]
    open_samples(tmp_path/'st')                                       # an opener sweeps the dead writer's temporary
    assert [n for n in _hidden(tmp_path) if n.endswith('.tmp')] == []
