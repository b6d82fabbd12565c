"""Training throughput of a model variant on this machine, as a CPU "MFU".

    python bench/train.py [--variant small] [--batch 2] [--frames 250] [--steps 4]

MFU = model FLOP/s during training steps (forward + backward + AdamW) / FLOP/s of a large fp32 matmul measured
in the same run. Model FLOPs per step = 6 * (per-token matmul parameters) * tokens + 12 * L * T^2 * d (attention
scores and values, forward and backward). Reported for fp32 and for bf16 autocast (same fp32 matmul denominator).
The machine may be shared: both figures are measured back to back, so their ratio is meaningful even when the
absolute numbers are not; rerun on a quiet machine for absolute figures.
"""
import argparse, json, os, time
import torch
from torch import nn


def matmul_flops(n=2048, reps=5, dtype=torch.float32):
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t0)
    return 2*n**3/best


def per_token_params(model):
    "Weights of the Linear layers applied to every frame token (the text projection runs once per clip)."
    skip = ('text_projection', 'image_encoder', 'fusion')
    return sum(m.weight.numel() for n, m in model.named_modules() if isinstance(m, nn.Linear) and not n.startswith(skip))


def step_flops(model, batch, frames):
    cfg = model.cfg
    tokens = batch*(frames + 2)
    return 6*per_token_params(model)*tokens + 12*cfg.num_layers*(frames + 2)**2*cfg.d_model*batch


def train_step_time(model, batch, steps, bf16, weights):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ctx = (lambda: torch.autocast('cpu', dtype=torch.bfloat16)) if bf16 else (lambda: torch.autocast('cpu', enabled=False))
    times = []
    for i in range(steps + 1):       # the first step warms up
        t0 = time.perf_counter()
        with ctx(): loss, _ = model.compute_loss(batch, weights)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        if i: times.append(time.perf_counter() - t0)
    return sorted(times)[len(times)//2]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--variant', default='small'); p.add_argument('--batch', type=int, default=2)
    p.add_argument('--frames', type=int, default=250); p.add_argument('--steps', type=int, default=4)
    p.add_argument('--matmul', type=int, default=2048); p.add_argument('--json', action='store_true')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default = cores)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    from stickgen.config import load_config
    from stickgen.model import build_model, count_parameters
    torch.manual_seed(0)
    cfg = load_config(a.variant)
    model = build_model(cfg.model); model.train()
    D = model.cfg.embedding_dim
    batch = dict(motion=torch.randn(a.batch, a.frames, 20)*0.1 + 1.0, mask=torch.ones(a.batch, a.frames, dtype=torch.bool),
                 actions=torch.randint(0, 64, (a.batch, a.frames)), embedding=nn.functional.normalize(torch.randn(a.batch, D), dim=-1))
    flops = step_flops(model, a.batch, a.frames)
    out = dict(variant=a.variant, params=count_parameters(model)['total'], batch=a.batch, frames=a.frames,
               threads=torch.get_num_threads(), load_avg=os.getloadavg()[0], gflop_per_step=flops/1e9)
    peak = matmul_flops(a.matmul)
    for name, bf16 in (('fp32', False), ('bf16', True)):
        t = train_step_time(model, batch, a.steps, bf16, cfg.loss)
        out[f'{name}_step_s'] = t
        out[f'{name}_gflops'] = flops/t/1e9
        out[f'{name}_clips_per_s'] = a.batch/t
    peak = max(peak, matmul_flops(a.matmul))     # measured before and after, the better of the two
    out['matmul_fp32_gflops'] = peak/1e9
    for name in ('fp32', 'bf16'): out[f'{name}_mfu'] = out[f'{name}_gflops']*1e9/peak
    if a.json: print(json.dumps(out, indent=1))
    else:
        print(f"{a.variant}: {out['params']/1e6:.2f}M params, batch {a.batch} x {a.frames} frames, {out['threads']} threads, "
              f"load avg {out['load_avg']:.1f}; {out['gflop_per_step']:.1f} GFLOP per training step")
        print(f"fp32 matmul ({a.matmul}^3): {out['matmul_fp32_gflops']:.1f} GFLOP/s")
        for name in ('fp32', 'bf16'):
            print(f"{name}: {out[f'{name}_step_s']:.3f} s/step, {out[f'{name}_clips_per_s']:.2f} clips/s, "
                  f"{out[f'{name}_gflops']:.1f} GFLOP/s, MFU {out[f'{name}_mfu']:.2f}")
    return out


if __name__ == '__main__': main()
