"""Benchmark: wall time to generate one 250-frame clip per model variant at its default sampler step count.

Usage: python bench/model.py [--variants tiny small medium large] [--threads N] [--repeats 3] [--steps S]
Random weights (speed does not depend on the values). Classifier-free guidance runs as one batched forward
(batch 2) per step. Prints one line per variant; the small variant must take <= 1 s on a 2-core CPU.
Note the machine load (printed): on a shared machine wall times are pessimistic; with --threads 1 the process CPU
time approximates the wall time on an idle core.
"""
import argparse, os, statistics, time
import torch
from stickgen.model import build_model, count_parameters
from stickgen.schema import CLIP_FRAMES, FPS


def bench(variant, repeats=3, steps=None, frames=CLIP_FRAMES):
    m = build_model(variant).eval()
    e = torch.nn.functional.normalize(torch.randn(1, m.cfg.embedding_dim), dim=-1)
    steps = m.cfg.sampler_steps if steps is None else steps
    m.generate(e, num_frames=frames, steps=1)                        # warm-up
    times, cpu = [], []
    for r in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        m.generate(e, num_frames=frames, steps=steps, seed=r)
        times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    return dict(variant=variant, params=count_parameters(m)['total'], steps=steps, guidance=m.cfg.guidance,
                median_s=statistics.median(times), min_s=min(times), cpu_s=statistics.median(cpu))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--variants', nargs='+', default=['tiny', 'small', 'medium', 'large'])
    p.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch default)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--steps', type=int, default=None, help='override the default step count')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f} (shared machine if >> 0)")
    for v in a.variants:
        r = bench(v, a.repeats, a.steps)
        print(f"{v:>6}: {r['params']/1e6:6.2f}M params, {r['steps']} steps, CFG {r['guidance']}: "
              f"{r['median_s']:.3f} s / 250-frame clip (min {r['min_s']:.3f} s, {CLIP_FRAMES/FPS/r['median_s']:.1f}x real time; "
              f"process CPU time {r['cpu_s']:.3f} s)", flush=True)


if __name__ == '__main__': main()
