"""Benchmark: wall time to generate one 250-frame clip per model variant, as `stick-gen` calls the model.

Usage: python bench/model.py [--variants tiny small medium large] [--threads N] [--repeats 3] [--steps S] [--mode text|plan]
Random weights (speed does not depend on the values). `--mode text` (default): the sentence alone, so the learned
planner writes the timeline from the token states, then text + plan guidance (three conditionings batched in one
forward per step); `--mode plan`: a given plan (the parser's), no planner call. Targets (issue #14, 2 cores):
tiny <= 0.2 s, small <= 0.5 s per clip. Note the machine load (printed): on a shared machine wall times are
pessimistic; with --threads 1 the process CPU time approximates the wall time on an idle core.
"""
import argparse, os, statistics, time
import torch
from stickgen.model import build_model, count_parameters
from stickgen.plan import plan_from_actions
from stickgen.schema import CLIP_FRAMES, FPS

TARGET = dict(tiny=0.2, small=0.5)


def bench(variant, repeats=3, steps=None, frames=CLIP_FRAMES, mode='text', tokens=12):
    m = build_model(variant).eval()
    D = m.cfg.embedding_dim
    e = torch.nn.functional.normalize(torch.randn(1, D), dim=-1)
    kw = dict(tokens=torch.randn(1, tokens, D)*0.1) if mode == 'text' else dict(plan=plan_from_actions([2]*125 + [21]*125))
    steps = m.cfg.sampler_steps if steps is None else steps
    m.generate(e, num_frames=frames, steps=1, **kw)                  # warm-up
    times, cpu = [], []
    for r in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        m.generate(e, num_frames=frames, steps=steps, seed=r, **kw)
        times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    return dict(variant=variant, params=count_parameters(m)['total'], steps=steps, guidance=(m.cfg.guidance, m.cfg.plan_guidance),
                median_s=statistics.median(times), min_s=min(times), cpu_s=statistics.median(cpu))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--variants', nargs='+', default=['tiny', 'small', 'medium', 'large'])
    p.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch default)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--steps', type=int, default=None, help='override the default step count')
    p.add_argument('--mode', choices=('text', 'plan'), default='text')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f} (shared machine if >> 0), mode {a.mode}")
    for v in a.variants:
        r = bench(v, a.repeats, a.steps, mode=a.mode)
        goal = f", target <= {TARGET[v]} s: {'met' if r['median_s'] <= TARGET[v] else 'MISSED'}" if v in TARGET else ''
        print(f"{v:>6}: {r['params']/1e6:6.2f}M params, {r['steps']} steps, guidance text/plan {r['guidance']}: "
              f"{r['median_s']:.3f} s / 250-frame clip (min {r['min_s']:.3f} s, {CLIP_FRAMES/FPS/r['median_s']:.1f}x real time; "
              f"process CPU time {r['cpu_s']:.3f} s){goal}", flush=True)


if __name__ == '__main__': main()
