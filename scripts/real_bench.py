"""The real-data bench recorded in runs/real/tiny/bench_real.{json,md} (issue #15): Real, baselines, the procedural engine,
the release model (synthetic only), pretrain on synthetic + real, and the two SFT records.

    .venv/bin/python scripts/real_bench.py      # from the repo root, after scripts/real_pipeline.sh and the 1,600-step SFT
"""
from stickgen.eval import run_real_bench, checkpoint_generator
from stickgen.checkpoints import release_checkpoint
runs = [('pretrain only', 'runs/tiny/pretrain_real'), ('after SFT, 500 steps', 'runs/tiny/sft_real'), ('after SFT, 1600 steps', 'runs/tiny/sft_real_1600')]
models = {'release model (synthetic only)': checkpoint_generator(release_checkpoint()),
          **{f'{n} ({p})': checkpoint_generator(f'{p}/checkpoints/model_checkpoint_best.pth') for n, p in runs}}
res = run_real_bench('data/real/bandai_namco_ds2', models, replications=3, output_dir='runs/real/tiny')
print(res['markdown'])
