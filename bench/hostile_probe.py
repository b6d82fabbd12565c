"""The hostile-input probe of issue #17: every case of tests/hostile.py through the real CLIs, then the figures.

    python bench/hostile_probe.py [--subprocess] [--family NAME] [--show-all]

Prints one line per case that is not a clean refusal, and the closing figures: cases tried, clean errors,
tracebacks, silent passes, clobbers (existing files changed), leftovers (new files or folders after an error).
"""
import argparse, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
import hostile

p = argparse.ArgumentParser()
p.add_argument('--subprocess', action='store_true', help='run each CLI case as its own process (slow, the most faithful)')
p.add_argument('--family', default=None); p.add_argument('--show-all', action='store_true')
p.add_argument('--timeout', type=float, default=60)
p.add_argument('--skip', action='append', default=[], help='leave out cases whose name contains this (e.g. one that hangs)')
a = p.parse_args()
t0 = time.time()
with tempfile.TemporaryDirectory() as tmp:
    F = hostile.make_fixtures(Path(tmp)/'fixtures')
    cases = [c for c in hostile.cli_cases() + hostile.api_cases() if a.family in (None, c.family) and not any(k in c.name for k in a.skip)]
    res = []
    for c in cases:
        r = hostile.run_case(c, F, Path(tmp)/'work', timeout=a.timeout, subprocess_run=a.subprocess)
        res.append(r)
        if a.show_all or not r.ok and r.outcome != 'skipped': print(hostile.describe_failure(r), flush=True)
s = hostile.summary(res)
print(f"\n{s['cases']} cases tried ({s['cli']} through the CLIs, {s['api']} through the API) in {time.time()-t0:.0f}s: "
      f"{s['clean']} clean errors, {s['tracebacks']} tracebacks, {s['silent']} silent passes, {s['clobbers']} clobbers, "
      f"{s['leftovers']} with leftovers, {s['other']} other exit codes, {s['unclear']} not naming what, {s['skipped']} skipped")
