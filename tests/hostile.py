"""Hostile inputs for every stickgen command: the case catalogue, the fixtures they use, and the runner that scores them.

Used by `tests/test_hostile_inputs.py` (pytest) and `bench/hostile_probe.py` (prints the closing figures).
A case is a command line (or an API call) that must be refused: exit code 2, one `error:` line naming what is
wrong, no traceback, no existing file changed, nothing new left behind. The runner calls the CLIs in-process
(`stickgen.cli.main` / `stick_gen_main`), which is what the console scripts do, so the whole catalogue runs in
about a minute; `subprocess=True` runs a case through the real `python -m stickgen.cli` instead.
"""
from __future__ import annotations
import contextlib, hashlib, io, json, os, shutil, signal, subprocess, sys, time, traceback
from dataclasses import dataclass, field
from pathlib import Path
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


# --- fixtures ---------------------------------------------------------------------------------------------

def toy_samples(n=10, frames=24, dim=384, seed=0, source='synthetic'):
    "Small labelled clips with random unit text embeddings (no text encoder needed)."
    from stickgen.schema import make_sample, standing_pose
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        v = rng.uniform(-0.04, 0.04)
        m = np.stack([standing_pose(x=v*t) for t in range(frames)]).astype(np.float32)
        m[:, 12:16] += 0.05*np.sin(np.arange(frames)/3.0 + i)[:, None]
        e = rng.normal(size=dim).astype(np.float32); e /= np.linalg.norm(e)
        out.append(make_sample(m, np.full(frames, i % 4), f"toy clip {i % 7}", source=source, embedding=e, split='test'))
    return out


class Evil:
    "A pickle payload: loading it unsafely would run code."
    def __reduce__(self): return (os.system, ('echo pwned > /tmp/stickgen-pwned',))


BVH_JOINTS = [('Hips', None, (0, 0, 0)), ('Spine', 'Hips', (0, 10, 0)), ('Neck', 'Spine', (0, 42, 0)), ('Head', 'Neck', (0, 12, 3)),
              ('LeftArm', 'Neck', (18, -5, 0)), ('LeftForeArm', 'LeftArm', (4, -27, 0)), ('LeftHand', 'LeftForeArm', (2, -25, 0)),
              ('RightArm', 'Neck', (-18, -5, 0)), ('RightForeArm', 'RightArm', (-4, -27, 0)), ('RightHand', 'RightForeArm', (-2, -25, 0)),
              ('LeftUpLeg', 'Hips', (9, -7, 0)), ('LeftLeg', 'LeftUpLeg', (1, -38, 2)), ('LeftFoot', 'LeftLeg', (0, -40, -4)), ('LeftToeBase', 'LeftFoot', (1, -6, 12)),
              ('RightUpLeg', 'Hips', (-9, -7, 0)), ('RightLeg', 'RightUpLeg', (-1, -38, 2)), ('RightFoot', 'RightLeg', (0, -40, -4)), ('RightToeBase', 'RightFoot', (-1, -6, 12))]

def write_bvh(path, frames=40, fps=30):
    kids = {}
    for n, p, o in BVH_JOINTS: kids.setdefault(p, []).append((n, o))
    out = ["HIERARCHY"]
    def emit(n, o, depth, root=False):
        ind = '  '*depth
        out.append(f"{ind}{'ROOT' if root else 'JOINT'} {n}"); out.append(ind + '{')
        out.append(f"{ind}  OFFSET {o[0]} {o[1]} {o[2]}")
        out.append(f"{ind}  CHANNELS " + ("6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if root else "3 Zrotation Xrotation Yrotation"))
        for c, co in kids.get(n, []): emit(c, co, depth+1)
        if n not in kids: out.extend([f"{ind}  End Site", ind + '  {', f"{ind}    OFFSET 0 5 0", ind + '  }'])
        out.append(ind + '}')
    emit('Hips', (0, 0, 0), 0, True)
    out += ["MOTION", f"Frames: {frames}", f"Frame Time: {1/fps:.6f}"]
    la = [n for n, _, _ in BVH_JOINTS].index('LeftArm')
    for t in range(frames):
        row = [0.0, 98.0, 0.0, 0, 0, 0] + [0.0]*3*(len(BVH_JOINTS)-1)
        row[6 + 3*(la-1)] = 150*np.sin(np.pi*t/(frames-1))
        out.append(' '.join(f"{v:.4f}" for v in row))
    Path(path).write_text('\n'.join(out) + '\n')


def make_fixtures(F:Path) -> Path:
    "Every valid and broken input the cases read, in folder `F` (a few seconds: one tiny training step included)."
    from stickgen.schema import save_samples, atomic_save
    from stickgen.storage import write_samples
    from stickgen.renderer import export_motion
    F.mkdir(parents=True, exist_ok=True)
    one = toy_samples(2, frames=30)
    save_samples(one, F/'one.pt')
    save_samples(toy_samples(10), F/'toy.pt')
    save_samples(toy_samples(70, seed=1), F/'ref.pt')
    save_samples(toy_samples(10, seed=2), F/'few.pt')
    save_samples([], F/'empty.pt')
    torch.save([Evil()], F/'evil.pt')
    torch.save(dict(model_state_dict={}, payload=Evil()), F/'evil.pth')
    (F/'torn.pth').write_bytes(b'PK\x03\x04 this is not a whole torch file')
    (F/'torn.pt').write_bytes(b'PK\x03\x04 half a corpus')
    huge = toy_samples(1, frames=30)[0]; huge['motion'][10, 0] = 1e12
    save_samples([huge], F/'huge.pt', validate=False)
    write_samples(one, F/'store')
    export_motion(one[0], F/'ok.motion')
    d = json.loads((F/'ok.motion').read_text())
    (F/'nan.motion').write_text((F/'ok.motion').read_text().replace('"motion":[[', '"motion":[[NaN,', 1).replace(',', ',', 1))
    (F/'deep.motion').write_text('{"meta": ' + '[' * 50_000 + ']' * 50_000 + '}')
    (F/'fps0.motion').write_text((F/'ok.motion').read_text().replace('"fps":25', '"fps":0'))
    (F/'fpsinf.motion').write_text((F/'ok.motion').read_text().replace('"fps":25', '"fps":1e999'))
    far = dict(d); far['motion'] = [list(d['motion'][0])]; far['motion'][0][0] = 5e5
    (F/'far.motion').write_text(json.dumps(far))
    (F/'notjson.motion').write_text('{"meta": {"format": "stickgen.motion", ')
    write_bvh(F/'take_wave_left.bvh'); (F/'bvh').mkdir(); write_bvh(F/'bvh'/'take_wave_left.bvh')
    # a tiny trained run (1 epoch, 2 steps) whose checkpoint the eval / stick-gen / train cases use
    from stickgen.train import train
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train('tiny', data_path=str(F/'toy.pt'), checkpoint_dir=str(F/'run'), epochs=1, batch_size=4, window=16, log_every=1,
              val_aux_samples=0, tensorboard=False, progress=False, val_fraction=0.2, **{'model.d_model': 32, 'model.num_layers': 1, 'model.nhead': 2})
    # configs
    (F/'cfg').mkdir()
    for name, text in CONFIGS.items(): (F/'cfg'/f'{name}.yaml').write_text(text)
    (F/'suites_bad.yaml').write_text('suites: [1, 2')
    (F/'suites_list.yaml').write_text('- a\n- b\n')
    (F/'a_file').write_text('not a directory')
    return F


CONFIGS = {
    'batch_eight': 'variant: tiny\ntraining:\n  batch_size: eight\n',
    'lr_fast': 'variant: tiny\ntraining:\n  learning_rate: fast\n',
    'epochs_neg': 'variant: tiny\ntraining:\n  epochs: -3\n',
    'epochs_frac': 'variant: tiny\ntraining:\n  epochs: 1.5\n',
    'lr_nan': 'variant: tiny\ntraining:\n  learning_rate: .nan\n',
    'val_two': 'variant: tiny\ndata:\n  val_fraction: 2\n',
    'unknown_key': 'variant: tiny\ntraining:\n  epochz: 3\n',
    'unknown_section': 'variant: tiny\ntrainig:\n  epochs: 3\n',
    'alias_bomb': 'variant: tiny\nx: &a [q, q, q, q, q, q, q, q, q]\ny: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nlora:\n  target_modules: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n',
    'top_list': '- variant\n- tiny\n',
    'syntax': 'variant: tiny\ntraining: {epochs: 3\n',
    'd_model_zero': 'variant: tiny\nmodel:\n  d_model: 0\n',
    'python_tag': 'variant: tiny\ntraining: !!python/object/apply:os.system ["echo pwned"]\n',
}


# --- cases ------------------------------------------------------------------------------------------------

@dataclass
class Case:
    family:str                         # what class of mistake
    name:str
    argv:list|None = None              # ['stickgen', 'render', ...] or ['stick-gen', ...]; {F} = fixtures, {d} = the case's folder
    api:object = None                  # or a callable(F, d) that must raise a StickgenError
    setup:object = None                # callable(F, d) preparing files the case must not change
    mention:str|None = None            # a piece of text the error must contain (what / where)
    immutable:str|None = None          # a folder under {d} made immutable (chattr +i) for the case
    slow:bool = False


def _i(*a): return list(a)

def cli_cases() -> list:
    C = []
    def add(family, name, argv, mention=None, **kw): C.append(Case(family, name, argv=argv, mention=mention, **kw))
    T = ['stickgen', 'train', '--data_path', '{F}/toy.pt', '--checkpoint_dir', '{d}/ck', '--set', 'tensorboard=false', '--set', 'progress=false']
    # typed configuration
    for name in CONFIGS: add('config', f'train --config {name}.yaml', ['stickgen', 'train', '--config', f'{{F}}/cfg/{name}.yaml', '--data_path', '{F}/toy.pt', '--checkpoint_dir', '{d}/ck'], name.split('_')[0] if name in ('alias_bomb',) else None)
    for flags, m in ((['--epochs', '-1'], '--epochs'), (['--epochs', '0'], '--epochs'), (['--batch_size', '0'], '--batch_size'), (['--batch_size', 'eight'], '--batch_size'),
                     (['--max_steps', '-5'], '--max_steps'), (['--nproc', '0'], '--nproc'), (['--nproc', '-2'], '--nproc'), (['--seed', 'abc'], '--seed'),
                     (['--set', 'batch_size=-1'], 'batch_size'), (['--set', 'learning_rate=fast'], 'learning_rate'), (['--set', 'training.lr=1'], 'training.lr'),
                     (['--set', 'epochs'], 'KEY=VALUE'), (['--set', 'epochs=-3'], 'epochs'), (['--set', 'learning_rate=nan'], 'learning_rate'),
                     (['--set', 'lora.target_modules=*a'], 'target_modules'), (['--set', 'data.val_fraction=5'], 'val_fraction'), (['--device', 'tpu9'], 'tpu9'),
                     (['--config', 'nope'], 'nope'), (['--bogus-flag'], '--bogus-flag')):
        add('config', 'train ' + ' '.join(flags), T + flags, m)
    # what train reads
    for flags, m in ((['--data_path', '{F}/missing.pt'], 'missing.pt'), (['--data_path', '{F}/evil.pt'], 'not plain tensors'), (['--data_path', '{F}/torn.pt'], 'torn.pt'),
                     (['--data_path', '{F}/empty.pt'], 'no samples'), (['--data_path', '{F}/ok.motion'], 'ok.motion'), (['--resume_from', '{F}/nope.pth'], 'nope.pth'), (['--resume_from', '{F}/evil.pth'], 'not plain tensors'), (['--resume_from', '{F}/torn.pth'], 'torn.pth'),
                     (['--init_from', '{F}/evil.pth'], 'not plain tensors'), (['--init_from', '{F}/torn.pth'], 'torn.pth'), (['--init_from', '{F}/one.pt'], 'one.pt'),
                     (['--resume_from', '{F}/bvh'], 'bvh'), (['--checkpoint_dir', '{F}/a_file'], 'a_file')):
        add('train inputs', 'train ' + ' '.join(flags), T + flags, m)
    # eval: everything checked before any training
    E = ['stickgen', 'eval', '--train_data', '{F}/toy.pt', '--reference_data', '{F}/ref.pt', '--checkpoint', '{F}/run/model_checkpoint_best.pth',
         '--output_dir', '{d}/eval', '--runs_dir', '{d}/runs', '--evaluator_dir', '{d}/evaluator', '--quick']
    def ev(flags): 
        out, skip = [], set()
        for i, x in enumerate(flags):
            if isinstance(x, str) and x.startswith('--') and x in E: skip.add(x)
        j = 0
        while j < len(E):
            if E[j] in skip: j += 2; continue
            out.append(E[j]); j += 1
        return out + flags
    for flags, m in ((['--checkpoint', '/nope.pth'], '/nope.pth'), (['--checkpoint', '{F}/torn.pth'], 'torn.pth'), (['--checkpoint', '{F}/evil.pth'], 'not plain tensors'),
                     (['--checkpoint', '{F}/bvh'], 'bvh'), (['--checkpoint', '{F}/one.pt'], 'one.pt'), (['--evaluator', '{F}/nope.pt'], 'nope.pt'),
                     (['--evaluator', '{F}/torn.pth'], 'torn.pth'), (['--evaluator', '{F}/evil.pth'], 'not plain tensors'), (['--evaluator', '{F}/one.pt'], 'evaluator'),
                     (['--reference_data', '{F}/missing.pt'], 'missing.pt'), (['--reference_data', '{F}/torn.pt'], 'torn.pt'), (['--reference_data', '{F}/empty.pt'], 'no samples'),
                     (['--reference_data', '{F}/few.pt'], 'few.pt'), (['--reference_data', '{F}/evil.pt'], 'not plain tensors'), (['--train_data', '{F}/empty.pt'], 'no samples'),
                     (['--train_data', '{F}/evil.pt'], 'not plain tensors'), (['--num_samples', '0'], '--num_samples'), (['--num_samples', '-1'], '--num_samples'),
                     (['--num_samples', '1000000'], '--num_samples'), (['--replications', '0'], '--replications'), (['--mm_repeats', '1'], '--mm_repeats'),
                     (['--mm_prompts', '0'], '--mm_prompts'), (['--steps', '0'], '--steps'), (['--guidance', 'nan'], '--guidance'), (['--output_dir', '{F}/a_file'], 'a_file'),
                     (['--num_test', '3'], '--num_test')):
        add('eval inputs', 'eval ' + ' '.join(flags), ev(flags), m)
    TE = ['stickgen', 'train-evaluator', '--train_data', '{F}/toy.pt', '--reference_data', '{F}/ref.pt', '--output_dir', '{d}/evaluator']
    for flags, m in ((['--train_data', '{F}/nope.pt'], 'nope.pt'), (['--train_data', '{F}/empty.pt'], 'no samples'), (['--train_data', '{F}/evil.pt'], 'not plain tensors'),
                     (['--epochs', '0'], '--epochs'), (['--epochs', 'x'], '--epochs'), (['--num_train', '-1'], '--num_train'), (['--reference_data', '{F}/few.pt'], 'few.pt'),
                     (['--output_dir', '{F}/a_file'], 'a_file')):
        add('eval inputs', 'train-evaluator ' + ' '.join(flags), TE + flags, m)
    # render: bounds, formats, inputs
    Rn = lambda src, out='{d}/out.mp4', *flags: ['stickgen', 'render', src, '--output', out, *flags]
    for flags, m in ((['--width', '0'], '--width'), (['--width', '100000'], '--width'), (['--width', '-5'], '--width'), (['--width', 'wide'], '--width'),
                     (['--height', '0'], '--height'), (['--width', '321'], 'even'), (['--preset', 'bogus'], '--preset'), (['--fps', '0'], '--fps'),
                     (['--fps', '-1'], '--fps'), (['--fps', 'nan'], '--fps'), (['--fps', 'inf'], '--fps'), (['--fps', '1e9'], '--fps'), (['--index', '99'], '--index'),
                     (['--index', '-99'], '--index'), (['--format', 'avi'], '--format'), (['--theme', 'neon'], '--theme'), (['--camera', 'drone'], '--camera')):
        add('bounds', 'render ' + ' '.join(flags), Rn('{F}/one.pt', '{d}/out.mp4', *flags), m)
    for src, m in (('{F}/missing.pt', 'missing.pt'), ('{F}/torn.pt', 'torn.pt'), ('{F}/evil.pt', 'not plain tensors'), ('{F}/empty.pt', '--index'),
                   ('{F}/huge.pt', 'coordinate out of range'), ('{F}/nan.motion', 'nan.motion'), ('{F}/deep.motion', 'nested too deeply'), ('{F}/fps0.motion', 'meta.fps'),
                   ('{F}/fpsinf.motion', 'meta.fps'), ('{F}/far.motion', 'far.motion'), ('{F}/notjson.motion', 'not valid JSON'), ('{F}/store', 'store'), ('{F}/bvh', 'bvh')):
        add('render inputs', f'render {Path(src).name}', Rn(src), m)
    for out, m in (('{d}/out.avi', 'suffix'), ('{F}/a_file/x.mp4', 'a_file'), ('{d}/frames', 'other files')):
        add('render outputs', f'render --output {Path(out).name}', Rn('{F}/one.pt', out), m,
            setup=(lambda F, d: (d/'frames').mkdir() or (d/'frames'/'keep.txt').write_text('mine')) if 'frames' in out else None)
    # clobbers: a failing render / export must leave the old output
    for out in ('out.mp4', 'out.gif', 'out.motion', 'frames'):
        def setup(F, d, out=out):
            if out == 'frames': (d/'frames').mkdir(); (d/'frames'/'frame_00000.png').write_bytes(b'old frame')
            else: (d/out).write_bytes(b'the previous clip')
        add('clobber', f'failing render keeps {out}', Rn('{F}/huge.pt', f'{{d}}/{out}'), 'coordinate', setup=setup)
    add('clobber', 'nan .motion keeps old', Rn('{F}/nan.motion', '{d}/out.motion'), 'nan.motion', setup=lambda F, d: (d/'out.motion').write_text('{}'))
    # generate-data
    G = lambda *f: ['stickgen', 'generate-data', '--quiet', *f]
    for flags, m in ((['--num-samples', '0', '--output', '{d}/g.pt'], '--num-samples'), (['--num-samples', '-1', '--output', '{d}/g.pt'], '--num-samples'),
                     (['--num-samples', '1e14', '--output', '{d}/g.pt'], '--num-samples'), (['--num-samples', '100000000000000', '--output', '{d}/g'], 'free'),
                     (['--num-samples', '100000000000000', '--output', '{d}/g.pt'], 'free'), (['--num-samples', '4', '--workers', '0', '--output', '{d}/g.pt'], '--workers'),
                     (['--num-samples', '4', '--shard-size', '0', '--output', '{d}/g'], '--shard-size'), (['--num-samples', '4', '--output', '{d}/gd.txt'], 'gd.txt'),
                     (['--num-samples', '4', '--output', '{d}/mine'], 'not a sample store'), (['--num-samples', '4', '--output', '{F}/a_file/g.pt'], 'a_file'),
                     (['--num-samples', '4', '--seed', 'abc', '--output', '{d}/g.pt'], '--seed'), (['--num-samples', 'ten', '--output', '{d}/g.pt'], '--num-samples')):
        add('bounds', 'generate-data ' + ' '.join(flags), G(*flags), m, setup=(lambda F, d: (d/'mine').mkdir() or (d/'mine'/'notes.txt').write_text('mine')) if 'mine' in flags[-1] else None)
    # embed
    M = lambda *f: ['stickgen', 'embed', '--quiet', *f]
    for flags, m in ((['--input', '{F}/missing.pt', '--output', '{d}/e.pt'], 'missing.pt'), (['--input', '{F}/torn.pt', '--output', '{d}/e.pt'], 'torn.pt'),
                     (['--input', '{F}/evil.pt', '--output', '{d}/e.pt'], 'not plain tensors'), (['--input', '{F}/empty.pt', '--output', '{d}/e.pt'], 'no samples'),
                     (['--input', '{F}/one.pt', '--output', '{d}/e.pt', '--batch-size', '0'], '--batch-size'), (['--input', '{F}/store', '--output', '{d}/gd.txt'], 'gd.txt'),
                     (['--input', '{F}/one.pt', '--output', '{F}/a_file/e.pt'], 'a_file'), (['--input', '{F}/huge.pt', '--output', '{d}/e.pt'], 'coordinate'),
                     (['--input', '{F}/one.pt', '--output', '{d}/e.pt', '--model', 'acme/nope'], 'acme/nope')):
        add('embed', 'embed ' + ' '.join(flags), M(*flags), m)
    # convert
    V = lambda *f: ['stickgen', 'convert', 'bvh', '--input', '{F}/bvh', '-q', *f]
    for flags, m in ((['--output', '{d}/c.pt', '--limit', '0'], '--limit'), (['--output', '{d}/c.pt', '--limit', '-1'], '--limit'), (['--output', '{d}/c.pt', '--view', 'sideways'], '--view'),
                     (['--output', '{d}/c.pt', '--view', 'nan'], '--view'), (['--output', '{d}/c.pt', '--view', '1e400'], '--view'), (['--output', '{d}/c.pt', '--max-frames', '0'], '--max-frames'),
                     (['--output', '{d}/gd.txt'], 'gd.txt'), (['--output', '{F}/a_file/c.pt'], 'a_file')):
        add('convert', 'convert ' + ' '.join(flags), V(*flags), m)
    add('convert', 'convert mocapx', ['stickgen', 'convert', 'mocapx', '--input', '{F}', '--output', '{d}/c.pt'], 'mocapx')
    add('convert', 'convert missing input', ['stickgen', 'convert', 'bvh', '--input', '{F}/nothing', '--output', '{d}/c.pt'], 'nothing')
    # merge / curate
    Mg = lambda *f: ['stickgen', 'merge', *f]
    for flags, m in ((['--inputs', '{F}/nope.pt', '--output', '{d}/m.pt'], 'nope.pt'), (['--inputs', '{F}/evil.pt', '--output', '{d}/m.pt'], 'not plain tensors'),
                     (['--inputs', '{F}/torn.pt', '--output', '{d}/m.pt'], 'torn.pt'), (['--inputs', '{F}/empty.pt', '--output', '{d}/m.pt'], 'nothing left'),
                     (['--inputs', '{F}/one.pt', '--output', '{d}/m.pt', '--max-source-fraction', '5'], '--max-source-fraction'),
                     (['--inputs', '{F}/one.pt', '--output', '{d}/m.pt', '--max-source-fraction', '-1'], '--max-source-fraction'),
                     (['--inputs', '{F}/one.pt', '--output', '{d}/m.pt', '--max-source-fraction', 'nan'], '--max-source-fraction'),
                     (['--inputs', '{F}/one.pt', '--output', '{d}/m.pt', '--max-artifact', '2'], '--max-artifact'),
                     (['--inputs', '{F}/one.pt', '--output', '{d}/gd.txt'], 'gd.txt'), (['--inputs', '{F}/one.pt', '--output', '{F}/a_file/m.pt'], 'a_file')):
        add('merge/curate', 'merge ' + ' '.join(flags), Mg(*flags), m)
    Cu = lambda *f: ['stickgen', 'curate', '--input', '{F}/toy.pt', '--output-dir', '{d}/cur', *f]
    for flags, m in ((['--max-source-fraction', '5'], '--max-source-fraction'), (['--max-source-fraction', '0'], '--max-source-fraction'), (['--min-quality-sft', '2'], '--min-quality-sft'),
                     (['--min-quality-pretrain', '-0.5'], '--min-quality-pretrain'), (['--max-artifact-pretrain', 'nan'], '--max-artifact-pretrain'), (['--min-frames', '-1'], '--min-frames'),
                     (['--max-frames', '0'], '--max-frames'), (['--min-frames', '300', '--max-frames', '100'], '--min-frames'), (['--format', 'csv'], '--format'),
                     (['--max-synthetic-fraction-sft', '1.5'], '--max-synthetic-fraction-sft'), (['--seed', 'x'], '--seed')):
        add('merge/curate', 'curate ' + ' '.join(flags), Cu(*flags), m)
    for src, m in (('{F}/empty.pt', 'no samples'), ('{F}/nope.pt', 'nope.pt'), ('{F}/evil.pt', 'not plain tensors')):
        add('merge/curate', f'curate --input {Path(src).name}', ['stickgen', 'curate', '--input', src, '--output-dir', '{d}/cur'], m)
    add('merge/curate', 'curate --output-dir a_file', ['stickgen', 'curate', '--input', '{F}/toy.pt', '--output-dir', '{F}/a_file'], 'a_file')
    # params
    for flags, m in ((['--variant', 'huge'], 'huge'), (['--embedding-dim', '0'], '--embedding-dim'), (['--embedding-dim', '-3'], '--embedding-dim'),
                     (['--embedding-dim', 'x'], '--embedding-dim'), (['--variant', '{F}/cfg/d_model_zero.yaml'], 'd_model')):
        add('params', 'params ' + ' '.join(flags), ['stickgen', 'params', *flags], m)
    # adversarial-eval
    A = lambda *f: ['stickgen', 'adversarial-eval', '--checkpoint', 'procedural', '--output_dir', '{d}/adv', '--quiet', *f]
    for flags, m in ((['--suites', 'nope'], 'nope'), (['--suites_file', '{F}/missing.yaml'], 'missing.yaml'), (['--suites_file', '{F}/suites_bad.yaml'], 'suites_bad.yaml'),
                     (['--suites_file', '{F}/suites_list.yaml'], 'suites_list.yaml'), (['--duration', '0'], '--duration'), (['--duration', 'nan'], '--duration'),
                     (['--duration', '-4'], '--duration'), (['--max_per_suite', '0'], '--max_per_suite'), (['--max_per_suite', '-1'], '--max_per_suite'),
                     (['--rejection_threshold', 'nan'], '--rejection_threshold'), (['--rejection_threshold', '2'], '--rejection_threshold'),
                     (['--checkpoint', '{F}/nope.pth'], 'nope.pth'), (['--checkpoint', '{F}/evil.pth'], 'not plain tensors'), (['--output_dir', '{F}/a_file'], 'a_file')):
        add('adversarial-eval', 'adversarial-eval ' + ' '.join(flags), A(*flags), m)
    # stick-gen
    S = lambda *f: ['stick-gen', 'a person waves', '--output', '{d}/s.mp4', '--checkpoint', 'procedural', '--duration', '2', *f]
    for flags, m in ((['--min-adherence', 'nan'], '--min-adherence'), (['--min-adherence', '-1'], '--min-adherence'), (['--min-adherence', '2'], '--min-adherence'),
                     (['--duration', '0'], '--duration'), (['--duration', '-1'], '--duration'), (['--duration', 'nan'], '--duration'), (['--duration', '1e9'], 'duration'),
                     (['--actors', '0'], '--actors'), (['--actors', '-1'], '--actors'), (['--actors', '1000'], 'actors'), (['--max-retries', '-1'], '--max-retries'),
                     (['--seed', 'abc'], '--seed'), (['--format', 'avi'], '--format'), (['--output', '{d}/s.avi'], 'avi'), (['--output', '{F}/a_file/s.mp4'], 'a_file'),
                     (['--output', '{d}'], '--output'), (['--checkpoint', '{F}/torn.pth'], 'torn.pth'), (['--checkpoint', '{F}/evil.pth'], 'not plain tensors'),
                     (['--checkpoint', '{F}/nope.pth'], 'nope.pth')):
        add('stick-gen', 'stick-gen ' + ' '.join(flags), S(*flags), m)
    add('stick-gen', 'stick-gen empty prompt', ['stick-gen', '   ', '--output', '{d}/s.mp4', '--checkpoint', 'procedural'], 'prompt')
    add('clobber', 'stick-gen bad checkpoint keeps s.mp4', S('--checkpoint', '{F}/torn.pth'), 'torn.pth', setup=lambda F, d: (d/'s.mp4').write_bytes(b'the previous clip'))
    # demo
    D = lambda *f: ['stickgen', 'demo', '--output-dir', '{d}/demo', *f]
    for flags, m in ((['--scenes', '5'], '--scenes'), (['--scenes', '-1'], '--scenes'), (['--train-minutes', '0'], '--train-minutes'), (['--train-minutes', 'nan'], '--train-minutes'),
                     (['--max-steps', '0'], '--max-steps'), (['--output-dir', '{F}/a_file'], 'a_file')):
        add('demo', 'demo ' + ' '.join(flags), D(*flags), m)
    # damaged stores through the commands that read them
    for kind in STORE_DAMAGE:
        add('stores', f'embed damaged store: {kind}', ['stickgen', 'embed', '--quiet', '--input', '{d}/bad', '--output', '{d}/e.pt'], 'bad', setup=_damaged_store(kind))
        add('stores', f'merge damaged store: {kind}', ['stickgen', 'merge', '--inputs', '{d}/bad', '--output', '{d}/m.pt'], 'bad', setup=_damaged_store(kind))
        add('stores', f'train damaged store: {kind}', [*T[:2], '--data_path', '{d}/bad', *T[4:]], 'bad', setup=_damaged_store(kind))
    # unwritable output places, every command that writes
    U = '{d}/ro'
    for name, argv in (('render', Rn('{F}/one.pt', U + '/out.mp4')), ('render gif', Rn('{F}/one.pt', U + '/out.gif')), ('render motion', Rn('{F}/one.pt', U + '/out.motion')),
                       ('render png', Rn('{F}/one.pt', U + '/frames')), ('generate-data .pt', G('--num-samples', '4', '--output', U + '/g.pt')),
                       ('generate-data store', G('--num-samples', '4', '--output', U + '/g')), ('embed', M('--input', '{F}/one.pt', '--output', U + '/e.pt')),
                       ('embed store', M('--input', '{F}/store', '--output', U + '/st')), ('convert', V('--output', U + '/c.pt')), ('merge', Mg('--inputs', '{F}/one.pt', '--output', U + '/m.pt')),
                       ('curate', ['stickgen', 'curate', '--input', '{F}/toy.pt', '--output-dir', U + '/cur']), ('train', [*T[:4], '--checkpoint_dir', U + '/ck', *T[6:]]),
                       ('train-evaluator', [*TE[:-2], '--output_dir', U + '/ev']), ('eval', ev(['--output_dir', U + '/eval'])),
                       ('adversarial-eval', ['stickgen', 'adversarial-eval', '--checkpoint', 'procedural', '--output_dir', U + '/adv', '--quiet']),
                       ('demo', D('--output-dir', U + '/demo')), ('stick-gen', ['stick-gen', 'a person waves', '--output', U + '/s.mp4', '--checkpoint', 'procedural', '--duration', '2']),
                       ('render into ro itself', Rn('{F}/one.pt', U))):
        add('unwritable', f'{name} into an immutable folder', argv, 'ro', immutable='ro')
    return C


STORE_DAMAGE = ('no shards', 'bad json', 'num_samples too large', 'truncated shard', 'object shard', 'missing shard', 'not a store')

def _damaged_store(kind):
    def setup(F, d):
        shutil.copytree(F/'store', d/'bad')
        mp = d/'bad'/'meta.json'; m = json.loads(mp.read_text())
        if kind == 'no shards': m.pop('shards'); mp.write_text(json.dumps(m))
        elif kind == 'bad json': mp.write_text(mp.read_text()[:40])
        elif kind == 'num_samples too large': m['num_samples'] = 10**9; mp.write_text(json.dumps(m))
        elif kind == 'truncated shard':
            f = d/'bad'/'shard_00000'/'motion.npy'; f.write_bytes(f.read_bytes()[:200])
        elif kind == 'object shard': np.save(d/'bad'/'shard_00000'/'motion.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)
        elif kind == 'missing shard': shutil.rmtree(d/'bad'/'shard_00000')
        elif kind == 'not a store': mp.unlink()
    return setup


def api_cases() -> list:
    "API calls that must raise one `StickgenError` (not a TypeError / cv2 error / silent success)."
    from stickgen import schema as S, renderer as R, storage as St, checkpoints as K
    def gen(**kw):
        from stickgen.inference import InferenceGenerator
        return lambda F, d: InferenceGenerator('procedural').generate('a person waves', **{'duration': 2, **kw})
    pose = lambda: np.stack([S.standing_pose()]*30)
    def far(F, d):
        m = pose(); m[5, 0] = 1e12
        S.validate_sample(S.make_sample(m, np.zeros(30, np.int64), 'far'))
    def nan_export(F, d):
        s = S.load_samples(F/'one.pt')[0]; s['motion'][3, 2] = float('nan'); R.export_motion(s, d/'x.motion')
    def render(**kw): return lambda F, d: R.render_clip(pose(), d/'x.mp4', **kw)
    C = [Case('api', 'generate(seed="abc")', api=gen(seed='abc'), mention='seed'),
         Case('api', 'generate(seed=1.5)', api=gen(seed=1.5), mention='seed'),
         Case('api', 'generate(duration=nan)', api=gen(duration=float('nan')), mention='duration'),
         Case('api', 'generate(duration="long")', api=gen(duration='long'), mention='duration'),
         Case('api', 'generate(actors=0)', api=gen(actors=0), mention='actors'),
         Case('api', 'generate(num_samples=0)', api=gen(num_samples=0), mention='num_samples'),
         Case('api', 'validate_sample |x| = 1e12', api=far, mention='coordinate out of range'),
         Case('api', 'export_motion NaN', api=nan_export, mention='non-finite'),
         Case('api', 'export_motion fps "x"', api=lambda F, d: R.export_motion(dict(S.load_samples(F/'one.pt')[0], fps='x'), d/'x.motion'), mention='fps'),
         Case('api', 'load_motion deep nesting', api=lambda F, d: R.load_motion(F/'deep.motion'), mention='nested'),
         Case('api', 'render_clip width 0', api=render(width=0), mention='frame size'),
         Case('api', 'render_clip width 100000', api=render(width=100_000), mention='frame size'),
         Case('api', 'render_clip zoom 1e6', api=render(camera=[0, 0.9, 1e6]), mention='zoom'),
         Case('api', 'render_clip camera x 1e12', api=render(camera=[1e12, 0.9, 1]), mention='camera'),
         Case('api', 'render_clip fps nan', api=render(fps=float('nan')), mention='fps'),
         Case('api', 'render_clip preset bogus', api=render(preset='bogus'), mention='preset'),
         Case('api', 'write_samples to gd.txt', api=lambda F, d: St.write_samples(S.load_samples(F/'one.pt'), d/'gd.txt'), mention='gd.txt'),
         Case('api', 'SampleStore of a damaged store', api=lambda F, d: St.SampleStore(d/'bad'), setup=_damaged_store('no shards'), mention='shards'),
         Case('api', 'open_samples of a plain folder', api=lambda F, d: St.open_samples(F/'bvh'), mention='bvh'),
         Case('api', 'load_checkpoint evil', api=lambda F, d: K.load_checkpoint(F/'evil.pth'), mention='not plain tensors'),
         Case('api', 'load_model torn', api=lambda F, d: K.load_model(F/'torn.pth'), mention='torn.pth'),
         Case('api', 'load_samples evil', api=lambda F, d: S.load_samples(F/'evil.pt'), mention='not plain tensors'),
         Case('api', 'save_samples into an immutable folder', api=lambda F, d: S.save_samples(S.load_samples(F/'one.pt'), d/'ro'/'x.pt'), immutable='ro', mention='ro'),
         Case('api', 'atomic_save into an immutable folder', api=lambda F, d: S.atomic_save({}, d/'ro'/'x.pt'), immutable='ro', mention='ro'),
         Case('api', 'render_outputs unknown format', api=lambda F, d: R.render_outputs(S.load_samples(F/'one.pt')[0], d/'o', formats=('mp4', 'avi')), mention='avi')]
    return C


# --- running and scoring ----------------------------------------------------------------------------------

class _Timeout(BaseException): pass

def _on_alarm(*a): raise _Timeout()

def snapshot(root:Path) -> dict:
    "path -> (kind, mode, size, sha1) of everything under `root`."
    out = {}
    for p in sorted(root.rglob('*')):
        try: st = p.lstat()
        except FileNotFoundError: continue
        if p.is_symlink(): out[str(p)] = ('link', os.readlink(p))
        elif p.is_dir(): out[str(p)] = ('dir', st.st_mode & 0o7777)
        else:
            h = hashlib.sha1(p.read_bytes()).hexdigest() if st.st_size < 50e6 else st.st_mtime_ns
            out[str(p)] = ('file', st.st_mode & 0o7777, st.st_size, h)
    return out


def chattr(path, flag) -> bool:
    r = subprocess.run(['chattr', flag, str(path)], capture_output=True)
    return r.returncode == 0


@dataclass
class Result:
    case:Case
    outcome:str          # clean | traceback | silent | other | unclear | skipped
    rc:object = None
    err:str = ''
    changed:list = field(default_factory=list)   # existing files changed or removed
    left:list = field(default_factory=list)      # new files or folders left behind
    seconds:float = 0.0

    @property
    def ok(self) -> bool: return self.outcome == 'clean' and not self.changed and not self.left


def _fill(argv, F, d): return [a.replace('{F}', str(F)).replace('{d}', str(d)) for a in argv]


def run_case(case:Case, F:Path, work:Path, timeout:float=60, subprocess_run:bool=False) -> Result:
    "Run one case in a fresh folder under `work`; score it."
    d = work/case.name.replace('/', '_').replace(' ', '_')[:80]
    if d.exists(): shutil.rmtree(d)
    d.mkdir(parents=True)
    if case.setup: case.setup(F, d)
    if case.immutable:
        (d/case.immutable).mkdir(exist_ok=True)
        if not chattr(d/case.immutable, '+i'): return Result(case, 'skipped', err='chattr +i is not available here')
    before, fbefore = snapshot(d), snapshot(F)
    t0 = time.time()
    try: rc, err = (_run_subprocess if subprocess_run else _run_inprocess)(case, F, d, timeout)
    finally:
        if case.immutable: chattr(d/case.immutable, '-i')
    secs = time.time() - t0
    after, fafter = snapshot(d), snapshot(F)
    changed = [p for p in before if after.get(p) != before[p]] + [p for p in fbefore if fafter.get(p) != fbefore[p]]
    left = [p for p in after if p not in before] + [p for p in fafter if p not in fbefore]
    lines = [l for l in err.splitlines() if l.strip()]
    errors = [l for l in lines if ': error: ' in l or l.startswith('error: ')]
    if rc == 'exception' or 'Traceback (most recent call last)' in err: outcome = 'traceback'
    elif rc == 0 or rc == 'timeout': outcome = 'silent'
    elif rc != 2 or len(errors) != 1: outcome = 'other'
    elif case.mention and case.mention.lower() not in errors[0].lower(): outcome = 'unclear'
    else: outcome = 'clean'
    return Result(case, outcome, rc, err[-3000:], changed, left, secs)


def _run_inprocess(case, F, d, timeout):
    from stickgen.cli import main, stick_gen_main
    from stickgen.schema import StickgenError
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd(); os.chdir(d)
    prev = signal.signal(signal.SIGALRM, _on_alarm); signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if case.api is not None:
                try: case.api(F, d); rc = 0
                except StickgenError as e: rc = 2; print(f"api: error: {e}", file=sys.stderr)
            else:
                argv = _fill(case.argv, F, d)
                rc = (main(argv[1:]) if argv[0] == 'stickgen' else stick_gen_main(argv[1:]))
    except SystemExit as e: rc = e.code if isinstance(e.code, int) else 1
    except _Timeout: rc = 'timeout'
    except BaseException:
        rc = 'exception'; err.write(traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0); signal.signal(signal.SIGALRM, prev); os.chdir(old)
    return rc, err.getvalue()


def _run_subprocess(case, F, d, timeout):
    if case.api is not None: return _run_inprocess(case, F, d, timeout)
    argv = _fill(case.argv, F, d)
    cmd = [sys.executable, '-m', 'stickgen.cli', *argv[1:]] if argv[0] == 'stickgen' else [sys.executable, '-c', 'import sys; from stickgen.cli import stick_gen_main; sys.exit(stick_gen_main())', *argv[1:]]
    try: r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=timeout, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    except subprocess.TimeoutExpired: return 'timeout', ''
    return r.returncode, r.stderr


def summary(results:list) -> dict:
    "The closing figures: cases tried, clean errors, tracebacks, silent passes, clobbers (plus leftovers and the rest)."
    tried = [r for r in results if r.outcome != 'skipped']
    n = lambda o: sum(r.outcome == o for r in tried)
    return dict(cases=len(tried), cli=sum(r.case.api is None for r in tried), api=sum(r.case.api is not None for r in tried),
                clean=sum(r.ok for r in tried), tracebacks=n('traceback'), silent=n('silent'),
                clobbers=sum(bool(r.changed) for r in tried), leftovers=sum(bool(r.left) for r in tried),
                other=n('other'), unclear=n('unclear'), skipped=len(results) - len(tried))


def describe_failure(r:Result) -> str:
    why = [r.outcome] + (['changed ' + ', '.join(r.changed[:3])] if r.changed else []) + (['left ' + ', '.join(r.left[:3])] if r.left else [])
    tail = r.err.strip().splitlines()[-1][:300] if r.err.strip() else ''
    return f"[{r.case.family}] {r.case.name}: {'; '.join(why)} (rc {r.rc}, {r.seconds:.1f}s): {tail}"
