"""Benchmark of the datasets stack: generation, embedding, loading. Prints its figures.

    python bench/datasets.py                       # defaults sized for a shared 2-core machine
    python bench/datasets.py --load-samples 500000 --pt-samples 500000   # the issue's full loading comparison

Generation: base scenes/s (250 frames each) with --workers processes, and scenes/s when generating
+ augmenting x5 straight into a store (the `stickgen generate-data DIR --augment` path), with the
time this projects for 100k base + 4x augmentation.
Embedding: unique texts/s of TextEncoder vs sentence-transformers' `encode` called directly on the
same unique texts with the same batch size (same run), and the cache ratio (total / unique texts)
on an augmented corpus.
Loading: time to first batch and peak RSS of training-style random access (MotionDataset +
DataLoader, shuffled) over a store of --load-samples samples, vs `torch.load` of the same corpus
as one .pt (--pt-samples, defaults smaller because it needs the whole corpus in RAM). Each loading
measurement runs in a fresh subprocess; temporary files are removed at the end.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

def _sub(code:str) -> dict:
    "Run `code` in a fresh interpreter; it prints one JSON line last. Adds peak RSS (MB)."
    # VmHWM (peak RSS of this address space) starts fresh at exec; ru_maxrss would carry the parent's peak over
    wrapper = code + ("\nimport json as _j\n_r = dict(RESULT)\n_r['peak_rss_mb'] = [int(l.split()[1]) for l in open('/proc/self/status') "
                      "if l.startswith('VmHWM')][0]/1024\nprint(_j.dumps(_r))")
    out = subprocess.run([sys.executable, '-c', wrapper], capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE='1'))
    if out.returncode: raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])

def bench_generation(n, workers, aug_n, tmp):
    from stickgen.datasets import generate_dataset, write_dataset
    generate_dataset(64, seed=99)                                  # warm up imports
    from stickgen.datasets import _chunk_to_shard
    m = min(n, 1024)
    c = time.process_time(); generate_dataset(m, seed=5); cpu = (time.process_time() - c)/m
    c = time.process_time(); _chunk_to_shard((0, m//2, 6, True, 256, str(tmp/'cpu_shard'), 0, 0)); cpu_aug = (time.process_time() - c)/(m//2)
    shutil.rmtree(tmp/'cpu_shard', ignore_errors=True)
    print(f"generation CPU time (one process; robust to a shared machine's load): {1e3*cpu:.2f} ms per base scene -> "
          f"{workers/cpu:,.0f} scenes/s on {workers} dedicated cores; generate + 4x augment + write: {1e3*cpu_aug:.2f} ms per scene -> "
          f"100k base + 4x in {100_000*cpu_aug/workers/60:.1f} min on {workers} cores (CPU only, plus disk writes)")
    t = time.perf_counter(); generate_dataset(n, seed=1, workers=workers); dt = time.perf_counter() - t
    print(f"generation: {n} base scenes x 250 frames, {workers} workers: {n/dt:,.0f} scenes/s ({dt:.1f}s)")
    t = time.perf_counter(); write_dataset(aug_n, tmp/'gen_store', seed=2, augment=True, workers=workers); dt2 = time.perf_counter() - t
    print(f"generation + 4x augmentation -> store: {aug_n} scenes -> {5*aug_n} samples: {aug_n/dt2:,.0f} scenes/s, "
          f"{5*aug_n/dt2:,.0f} samples/s ({dt2:.1f}s); projected 100k base + 4x: {100_000*dt2/aug_n/60:.1f} min")
    shutil.rmtree(tmp/'gen_store', ignore_errors=True)

def bench_embedding(n_unique, batch_size, reps=2):
    import numpy as np
    from stickgen.datasets import generate_dataset
    from stickgen.embeddings import TextEncoder
    corpus = generate_dataset(max(200, n_unique//3), seed=3, augment=True)
    texts = [s['description'] for s in corpus]
    uniq = list(dict.fromkeys(texts))[:n_unique]
    enc = TextEncoder(batch_size=batch_size)
    model = enc.model
    model.encode(uniq[:64], batch_size=batch_size)                # warm up
    d_direct, d_enc = [], []
    for rep in range(reps):                                       # alternate, keep each side's best (shared machines are noisy)
        t = time.perf_counter(); model.encode(uniq, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True); d_direct.append(time.perf_counter() - t)
        enc.cache.clear()
        t = time.perf_counter(); enc.encode(uniq); d_enc.append(time.perf_counter() - t)
    d_direct, d_enc = min(d_direct), min(d_enc)
    print(f"embedding ({enc.model_name}, batch {batch_size}): {len(uniq)} unique texts: TextEncoder {len(uniq)/d_enc:,.0f} texts/s, "
          f"direct encode {len(uniq)/d_direct:,.0f} texts/s (TextEncoder/direct speed {d_direct/d_enc:.2f}, best of {reps} alternating runs)")
    enc2 = TextEncoder(batch_size=batch_size); enc2._model = model
    sub = texts[:3*n_unique]
    t = time.perf_counter(); enc2.encode(sub); d = time.perf_counter() - t
    print(f"embedding cache: augmented corpus of {len(sub)} descriptions has {len(set(sub))} unique "
          f"(ratio {len(sub)/len(set(sub)):.1f}x); embedded in {d:.1f}s = {len(sub)/d:,.0f} descriptions/s")

def build_corpus(n, tmp, pt_n):
    "A store of `n` samples and a .pt of the first `pt_n` (the same samples), made by repeating a generated pool."
    from stickgen.datasets import generate_dataset
    from stickgen.storage import new_store_dir, write_shard, finalize_store
    import torch, numpy as np
    pool = generate_dataset(400, seed=4, augment=True)            # 2000 samples, single and multi actor, variable length
    emb = np.random.default_rng(0).standard_normal((len(pool), 384)).astype(np.float32)   # embedding-sized stand-ins
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    for s, e in zip(pool, emb): s['embedding'] = torch.from_numpy(e.copy())
    tmpd = new_store_dir(tmp/'load_store'); shards = []; k = 0
    per = 10_000
    while k < n:
        m = min(per, n - k)
        shards.append(write_shard([pool[(k + i) % len(pool)] for i in range(m)], tmpd/f'shard_{len(shards):05d}', validate=False, first_index=k)); k += m
    finalize_store(tmpd, shards, tmp/'load_store')
    if pt_n:
        clone = lambda s: {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in s.items()}   # distinct storages, like a real corpus
        torch.save([clone(pool[i % len(pool)]) for i in range(pt_n)], tmp/'load.pt')

LOAD = """
import time, torch
t0 = time.perf_counter()
from stickgen.storage import MotionDataset, collate_motion, open_samples
from torch.utils.data import DataLoader
src = {src!r}
data = torch.load(src, weights_only=True) if src.endswith('.pt') else open_samples(src)
t_open = time.perf_counter() - t0
ds = MotionDataset(data, window=250, seed=0, max_actors=1)
dl = DataLoader(ds, batch_size=64, shuffle=True, collate_fn=collate_motion, num_workers=0)
it = iter(dl); b = next(it)
t_first = time.perf_counter() - t0
t = time.perf_counter(); nb = 0
while nb < {batches}: next(it); nb += 1
RESULT = dict(n=len(ds), open_s=t_open, first_batch_s=t_first, batches_per_s=nb/(time.perf_counter() - t))
"""

def bench_loading(n, pt_n, tmp, batches=50):
    t = time.perf_counter(); build_corpus(n, tmp, pt_n); print(f"(built a {n:,}-sample store and a {pt_n:,}-sample .pt in {time.perf_counter()-t:.0f}s)")
    size = sum(f.stat().st_size for f in (tmp/'load_store').rglob('*') if f.is_file())/1e9
    base = _sub("import torch, stickgen.storage, torch.utils.data\nRESULT = dict()")['peak_rss_mb']
    print(f"(baseline RSS of python + torch + stickgen.storage: {base:,.0f} MB)")
    r = _sub(LOAD.format(src=str(tmp/'load_store'), batches=batches))
    print(f"loading store ({r['n']:,} samples, {size:.1f} GB): first batch {r['first_batch_s']:.2f}s, peak RSS {r['peak_rss_mb']:,.0f} MB, "
          f"{r['batches_per_s']:.1f} random batches of 64/s")
    if pt_n:
        ptsize = (tmp/'load.pt').stat().st_size/1e9
        r = _sub(LOAD.format(src=str(tmp/'load.pt'), batches=batches))
        print(f"loading torch.load .pt ({r['n']:,} samples, {ptsize:.1f} GB): first batch {r['first_batch_s']:.2f}s "
              f"(torch.load {r['open_s']:.1f}s), peak RSS {r['peak_rss_mb']:,.0f} MB, {r['batches_per_s']:.1f} batches/s")
        if pt_n < n: print(f"  (the .pt holds {pt_n:,} samples; its RSS and load time grow linearly: x{n/pt_n:.0f} for {n:,})")

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--gen-samples', type=int, default=4000, help='base scenes for the generation rate')
    p.add_argument('--aug-samples', type=int, default=2000, help='base scenes for generate+augment into a store')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--embed-texts', type=int, default=500, help='unique texts for the embedding comparison')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--load-samples', type=int, default=100_000, help='store size for the loading benchmark (issue: 500000)')
    p.add_argument('--pt-samples', type=int, default=20_000, help='.pt size for the torch.load comparison (0: skip)')
    p.add_argument('--tmp', default=None, help='directory for temporary files (removed at the end)')
    p.add_argument('--skip', default='', help='comma list of parts to skip: generation,embedding,loading')
    a = p.parse_args(argv)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    skip = set(filter(None, a.skip.split(',')))
    tmp = Path(tempfile.mkdtemp(prefix='stickgen-bench-', dir=a.tmp))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (figures scale with a shared machine's load)")
    try:
        if 'generation' not in skip: bench_generation(a.gen_samples, a.workers, a.aug_samples, tmp)
        if 'embedding' not in skip: bench_embedding(a.embed_texts, a.batch_size)
        if 'loading' not in skip: bench_loading(a.load_samples, a.pt_samples, tmp)
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
