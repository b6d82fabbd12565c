"""Benchmark of the real-data pipeline on the whole Bandai Namco dataset 2 (issue #15). Prints its figures.

    python bench/realdata.py                                  # ../shared/realdata/bandai_namco_ds2/data.zip -> data/real/bandai_namco_ds2
    python bench/realdata.py --input PATH/data.zip --output DIR [--no-embed]

Two measurements, each in a fresh subprocess with its peak RSS:
1. conversion alone: `stickgen.converters.iter_convert('bvh', data.zip)` over all 2,902 takes, streamed from the
   archive (no unpacking): takes converted, failures with their reasons, seconds (target: <= 3 min on 2 cores);
2. the corpus build (`stickgen convert bandai-namco-2`, i.e. `stickgen.realdata.build_real_corpus`): conversion, windows,
   curation, captions, train / val / test stores, embedding; then the survival table per split and the drop reasons
   from its stats.json.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _sub(code:str) -> dict:
    "Run `code` in a fresh interpreter; it sets RESULT (a dict), printed as the last JSON line with the peak RSS (MB)."
    wrapper = code + ("\nimport json as _j\n_r = dict(RESULT)\n_r['peak_rss_mb'] = [int(l.split()[1]) for l in open('/proc/self/status') "
                      "if l.startswith('VmHWM')][0]/1024\nprint(_j.dumps(_r))")
    out = subprocess.run([sys.executable, '-c', wrapper], capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE='1'))
    if out.returncode: raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])

def bench_conversion(zip_path) -> dict:
    return _sub(f"""
import time
from stickgen.converters import ConversionReport, iter_convert
t0 = time.time(); rep = ConversionReport('bvh'); frames = 0
for s in iter_convert('bvh', {str(zip_path)!r}, rep): frames += int(s['motion'].shape[0])
RESULT = dict(seconds=round(time.time() - t0, 1), files=rep.files, samples=rep.samples, failures=rep.failures, frames_25fps=frames)
""")

def bench_build(zip_path, out, embed:bool) -> dict:
    return _sub(f"""
import time
from stickgen.realdata import build_real_corpus
t0 = time.time()
st = build_real_corpus({str(zip_path)!r}, {str(out)!r}, embed={embed!r}, progress=False, log=None)
RESULT = dict(seconds=round(time.time() - t0, 1), stats_seconds=st['seconds'])
""")

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--input', default=str(ROOT.parent/'shared'/'realdata'/'bandai_namco_ds2'/'data.zip'))
    p.add_argument('--output', default=str(ROOT/'data'/'real'/'bandai_namco_ds2'))
    p.add_argument('--no-embed', action='store_true')
    p.add_argument('--skip-build', action='store_true', help='only time the conversion')
    a = p.parse_args(argv)
    zp = Path(a.input)
    if not zp.is_file(): sys.exit(f"{zp}: not found (the Bandai Namco dataset 2 archive)")
    print(f"cores: {os.cpu_count()}, input {zp} ({zp.stat().st_size/1e6:.0f} MB)")
    c = bench_conversion(zp)
    print(f"conversion: {c['samples']}/{c['files']} takes converted in {c['seconds']} s ({c['files']/c['seconds']:.0f} takes/s), "
          f"{c['frames_25fps']} frames at 25 fps ({c['frames_25fps']/25/3600:.2f} h), peak RSS {c['peak_rss_mb']:.0f} MB; "
          f"target <= 180 s: {'met' if c['seconds'] <= 180 else 'NOT met'}")
    for f, why in c['failures']: print(f"  failed: {f}: {why}")
    if a.skip_build: return
    b = bench_build(zp, a.output, not a.no_embed)
    st = json.loads((Path(a.output)/'stats.json').read_text())
    print(f"corpus build: {b['seconds']} s ({st['seconds']}), peak RSS {b['peak_rss_mb']:.0f} MB -> {a.output}")
    cur = st['curation']
    print(f"takes: {cur['takes']} read, {cur['takes_kept']} kept; windows: {cur['windows']} scored, {cur['windows_kept']} kept")
    print(f"{'split':6} {'takes':>6} {'kept':>6} {'windows':>8} {'kept':>6} {'samples':>8} {'captions':>9} {'hours':>6}")
    for k in ('train', 'val', 'test'):
        s = cur['per_split'].get(k, {})
        print(f"{k:6} {s.get('takes', 0):>6} {s.get('takes_kept', 0):>6} {s.get('windows', 0):>8} {s.get('windows_kept', 0):>6} "
              f"{st['samples'].get(k, 0):>8} {st['distinct_captions'].get(k, 0):>9} {st['hours'].get(k, 0):>6}")
    print(f"dropped (reason: windows): {cur['dropped']}")
    for k, v in cur['examples'].items(): print(f"  e.g. {k}: {v}")
    print(f"split sha256 {st['split_sha256'][:16]}…, archive sha256 {st['input_sha256'][:16]}…")

if __name__ == '__main__': main()
