"""Build the stickgen docs site (`_docs/`) from the notebooks, without Quarto.

    python scripts/build_docs.py                 # execute every notebook (cached), build _docs/
    python scripts/build_docs.py --exec-re '^(index|00_schema)$' --out /tmp/site   # what the browser test does
    python scripts/build_docs.py --serve 8000    # build, then serve on http://127.0.0.1:8000

Pipeline (run `nbdev-export` first; `make docs` does):

1. Discover `nbs/*.ipynb` (index first, then by name) -- new notebooks appear without any config change.
2. Per notebook, in its own subprocess (isolation + a hard per-notebook timeout):
   nbdev's `add_show_docs` inserts a `show_doc(...)` cell after every `#| export` definition, then the whole
   notebook runs in execnb's `CaptureShell` from `nbs/` exactly as `nbdev-test` runs it (same skipped cells:
   `tst_flags` such as `slow`, `#| eval: false`), so the show_doc entries and every plot / clip / table
   come from one top-to-bottom run. Then the rest of nbdev's `FilterDefaults` processors (the ones
   `nbdev-proc-nbs` applies: hide, export removal, links, frontmatter, ...) produce `_proc/<nb>.ipynb`.
   A notebook that raises or times out fails the build, naming the notebook and the cell.
   Notebooks not selected by `--exec-re` are not run: their show_doc entries are computed from the exported
   module instead (fast; the browser test uses this for the slow notebooks).
3. Results are cached in `_proc/.docs_cache/`, keyed by the notebook's bytes + every file of the `stickgen`
   package + `configs/` + this script + the nbdev/execnb versions: an unchanged repo rebuilds in seconds,
   any code change re-executes (never stale outputs).
4. Each processed notebook becomes a Markdown page named like nbdev's (`00_schema` -> `schema.html`), with
   images / videos written as files in `<page>_files/` (data: URIs in HTML outputs are extracted too),
   nbdev's doc links rewritten to the local pages, show_doc headings given nbdev's anchors
   (`schema.html#validate_sample`), an API index page collected from the show_doc entries, and the
   `.motion` web viewer (`stickgen/viewer/`, package data) with a sample clip exported by
   `stickgen.renderer.export_motion`.
5. mkdocs (material theme, its client-side search) builds the site from `mkdocs.yml` + a generated nav;
   finally every local link, anchor, image and video source in the built HTML is checked.
"""
from __future__ import annotations
import argparse, hashlib, html, json, os, re, shutil, subprocess, sys, time, base64, mimetypes
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/'nbs'
CACHE_VERSION = '3'   # bump when the processing below changes in a way the cache key cannot see

# ----------------------------------------------------------------------------------------------------------
# discovery and caching

def discover_notebooks(nbs:Path=NBS) -> list[Path]:
    "index.ipynb first, then every other top-level notebook in name order (skipping `_`/`.` names)."
    nbs_ = sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(nbs_, key=lambda p: (p.stem != 'index', p.name))

def page_name(nb:Path) -> str:
    "The page stem nbdev/Quarto would give the notebook: `00_schema.ipynb` -> `schema`."
    from nbdev.doclinks import nbpath2html
    return Path(nbpath2html(Path(nb.name))).stem

def _hash_tree(h, root:Path, exts=None):
    if not root.exists(): return
    for p in sorted(root.rglob('*')):
        if not p.is_file() or '__pycache__' in p.parts or p.suffix == '.pyc': continue
        if exts and p.suffix not in exts: continue
        h.update(str(p.relative_to(ROOT)).encode()); h.update(p.read_bytes())

def env_hash() -> str:
    "What every notebook's output depends on besides itself."
    import nbdev, execnb
    h = hashlib.sha256(f'{CACHE_VERSION}|{nbdev.__version__}|{execnb.__version__}|{sys.version}'.encode())
    h.update(Path(__file__).read_bytes())
    _hash_tree(h, ROOT/'stickgen')
    _hash_tree(h, ROOT/'configs')
    h.update((ROOT/'pyproject.toml').read_bytes())
    return h.hexdigest()[:16]

def nb_key(nb:Path, env:str, mode:str) -> str:
    return hashlib.sha256(nb.read_bytes() + env.encode() + mode.encode()).hexdigest()[:16]

# ----------------------------------------------------------------------------------------------------------
# the worker: execute + nbdev-process one notebook (runs in a subprocess)

def _fail_cell(nb):
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error': return c, o
    return None, None

def process_notebook(src:Path, dest:Path, execute:bool, timeout:int) -> None:
    "Execute (or not) and nbdev-process `src`, writing the processed notebook to `dest`."
    os.environ.setdefault('MPLBACKEND', 'Agg')
    from fastcore.nbio import read_nb, write_nb, dict2nb, nb2dict
    from fastcore.xtras import working_directory
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, populate_language, add_show_docs, exec_show_docs, _default_exp
    from nbdev.test import _skip_cell
    from execnb.shell import CaptureShell
    src = Path(src).resolve()
    cfg = get_config()
    nb = read_nb(src)
    NBProcessor(nb=nb, procs=[populate_language, add_show_docs], rm_directives=False, process=True)
    k = CaptureShell(src)
    os.environ['IN_TEST'] = '1'   # what nbdev-test and nbdev-proc-nbs set
    with working_directory(src.parent):
        k.run_cell('from nbdev.showdoc import show_doc')
        if execute:
            skip = _skip_cell(nb, skip_flags=str(cfg.get('tst_flags', '')).split())
            try: k.run_all(nb, exc_stop=True, preproc=skip, cell_timeout=timeout)
            except BaseException as e:
                cell, out = _fail_cell(nb)
                msg = f"\n*** docs: notebook {src.relative_to(ROOT)} failed to execute"
                if cell is not None:
                    msg += f" in cell {nb.cells.index(cell)}:\n{cell.source}\n" + re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(out.get('traceback', [])))
                else: msg += f": {type(e).__name__}: {e}"
                print(msg, file=sys.stderr); sys.exit(1)
        else:
            # Not executed: show_doc entries come from the exported module; the rest of the page has no outputs.
            mod = _default_exp(nb)
            if mod: k.run_cell(f'from {cfg.lib_name}.{mod} import *')
            for c in nb.cells:
                if c.cell_type != 'code' or not re.match(r'\s*show_doc\(', c.source or ''): continue
                k.cell(c)
                if k.exc:
                    print(f"docs: warning: {src.name}: could not document `{c.source.strip()}` without executing: {k.exc}", file=sys.stderr)
                    c.source = None; k.exc = None
            nb.cells = [c for c in nb.cells if c.source is not None]
    # back to fastcore's attribute-style notebook (execution leaves plain dicts), keeping the show_doc marks
    sd = {i for i, c in enumerate(nb.cells) if c.get('has_sd')}
    path = nb.get('path_')
    nb = dict2nb(json.loads(json.dumps(nb2dict(nb), default=str)))
    nb['path_'] = path
    for i in sd: nb.cells[i].has_sd = True
    procs = [p for p in FilterDefaults().procs() if p is not exec_show_docs]
    NBProcessor(nb=nb, procs=procs, rm_directives='quarto', process=True)
    nb.metadata['stickgen_docs'] = dict(executed=execute, source=src.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix('.tmp')
    write_nb(nb, tmp); tmp.replace(dest)

def worker_main(argv):
    p = argparse.ArgumentParser()
    p.add_argument('jobs', nargs='+', help='SRC=DEST pairs')
    p.add_argument('--execute', action='store_true')
    p.add_argument('--timeout', type=int, default=300)
    a = p.parse_args(argv)
    for j in a.jobs:
        s, d = j.split('=', 1)
        process_notebook(Path(s), Path(d), a.execute, a.timeout)

# ----------------------------------------------------------------------------------------------------------
# notebook -> markdown page

_re_ansi = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')
_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_EXT = {'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif', 'image/svg+xml': '.svg', 'video/mp4': '.mp4',
        'video/webm': '.webm', 'image/webp': '.webp', 'application/json': '.json', 'text/csv': '.csv'}

def _src(x): return ''.join(x) if isinstance(x, list) else (x or '')

def split_directives(src:str):
    "Leading `#| key: value` lines -> (dict, remaining source)."
    lines, d = src.splitlines(), {}
    i = 0
    while i < len(lines):
        m = _re_dir.match(lines[i])
        if not m: break
        d[m.group(1)] = m.group(2).strip('"\'') or 'true'; i += 1
    return d, '\n'.join(lines[i:]).strip('\n')

def _fence(text:str, lang:str='') -> str:
    n = max([3] + [len(m) + 1 for m in re.findall(r'`{3,}', text)])
    return f"{'`'*n}{lang}\n{text.rstrip()}\n{'`'*n}"

class PageWriter:
    "Turns one processed notebook into Markdown, writing its media next to the page."
    def __init__(self, stem:str, docs:Path, pages:dict, doc_prefix:str, src_dir:Path=NBS):
        self.stem, self.docs, self.pages, self.doc_prefix, self.src_dir = stem, docs, pages, doc_prefix, src_dir
        self.files = docs/f'{stem}_files'; self.n = 0
        self.api: list[dict] = []   # show_doc entries: name, anchor, summary
        self.title = stem; self.description = ''

    def _save(self, data:bytes, ext:str) -> str:
        self.files.mkdir(parents=True, exist_ok=True)
        self.n += 1
        name = f'out{self.n:03d}{ext}'
        (self.files/name).write_bytes(data)
        return f'{self.files.name}/{name}'

    def _copy_local(self, ref:str) -> str|None:
        "A relative/absolute file path an output or markdown cell points at -> copied next to the page."
        if re.match(r'^(https?:|data:|mailto:|#|/)', ref) and not Path(ref).is_absolute(): return None
        path = Path(ref) if Path(ref).is_absolute() else self.src_dir/ref
        if not path.is_file(): return None
        return self._save(path.read_bytes(), path.suffix.lower())

    def fix_html(self, s:str) -> str:
        "Extract data: URIs and local file references in HTML (videos, images) into files."
        def data_uri(m):
            attr, mime, b64 = m.group(1), m.group(2), m.group(3)
            ext = _EXT.get(mime) or mimetypes.guess_extension(mime) or '.bin'
            path = self._save(base64.b64decode(re.sub(r"\s+", "", b64)), ext)
            return f'{attr}="{path}"'
        s = re.sub(r'(src|href|poster)="data:([\w/+.-]+);base64,([A-Za-z0-9+/=\s]+)"', data_uri, s)
        def local(m):
            new = self._copy_local(html.unescape(m.group(2)))
            return f'{m.group(1)}="{new}"' if new else m.group(0)
        return re.sub(r'\b(src|poster)="([^"]+)"', local, s)

    def fix_links(self, md:str) -> str:
        "nbdev doc links and links to notebooks -> the local pages (mkdocs resolves and checks .md links)."
        if self.doc_prefix:   # resolved by `resolve_doclinks` once every page's anchors are known
            md = re.sub(re.escape(self.doc_prefix) + r'([\w.-]+)\.html(?:#([\w.-]*))?', lambda m: f'@@DOCLINK:{m.group(1)}|{m.group(2) or ""}@@', md)
        def nblink(m):
            name = Path(m.group(2)).name
            stem = self.pages.get(name)
            return f'{m.group(1)}{stem}.md{m.group(3) or ""})' if stem else m.group(0)
        md = re.sub(r'(\]\()(?:\.\./)?(?:nbs/)?([\w.-]+\.ipynb)(#[\w.-]+)?\)', nblink, md)
        def img(m):
            new = self._copy_local(m.group(2))
            return f'{m.group(1)}{new})' if new else m.group(0)
        return re.sub(r'(!\[[^\]]*\]\()([^)\s]+)\)', img, md)

    def show_doc_md(self, md:str) -> str:
        "Give show_doc headings nbdev's anchors and record them for the API index."
        md = re.sub(r'#LNone\)', ')', md)
        def head(m):
            hashes, name = m.group(1), m.group(2).strip()
            anchor = name.lower()
            rest = md[m.end():]
            summ = re.search(r'^\*(.+?)\*\s*$', rest, re.M)
            nxt = re.search(r'^#{1,6} ', rest, re.M)
            summary = summ.group(1) if summ and (not nxt or summ.start() < nxt.start()) else ''
            self.api.append(dict(name=name, anchor=anchor, summary=summary))
            esc = name.replace('_', '\\_')
            return f'{hashes} {esc} {{#{anchor} .doc-sym}}'
        return re.sub(r'^(#{2,4}) ([\w.]+)\s*$', head, md, flags=re.M)

    def markdown_cell(self, cell) -> str:
        src = _src(cell['source'])
        for name, att in (cell.get('attachments') or {}).items():
            mime, b64 = next(iter(att.items()))
            src = src.replace(f'attachment:{name}', self._save(base64.b64decode(b64), _EXT.get(mime, '.bin')))
        src = self.callouts(src)
        return self.fix_links(src)

    @staticmethod
    def callouts(src:str) -> str:
        "Quarto callouts (`::: {.callout-note}`) -> mkdocs admonitions; other fenced divs are dropped."
        out, stack = [], []
        for line in src.splitlines():
            m = re.match(r'^:::+\s*\{?\s*\.callout-(\w+)[^}]*\}?\s*$', line)
            if m: stack.append(True); out.append(f'!!! {m.group(1)}\n'); continue
            if re.match(r'^:::+\s*(\{.*\})?\s*$', line):
                if re.match(r'^:::+\s*$', line) and stack: stack.pop()
                continue
            out.append(('    ' + line if line.strip() else '') if stack else line)
        return '\n'.join(out)

    def output(self, o, asis:bool) -> str:
        t = o.get('output_type')
        if t == 'stream':
            text = _re_ansi.sub('', _src(o.get('text'))).rstrip()
            if not text: return ''
            return f'<div class="nb-output nb-{o.get("name","stdout")}" markdown>\n\n{_fence(text, "text")}\n\n</div>'
        if t == 'error':
            return _fence(_re_ansi.sub('', '\n'.join(o.get('traceback', []))), 'text')
        data = o.get('data', {})
        if 'text/markdown' in data:
            md = _src(data['text/markdown'])
            return self.fix_links(self.show_doc_md(md) if asis or md.lstrip().startswith('---') else md)
        if 'text/html' in data:
            h = self.fix_html(_src(data['text/html'])).strip()
            return f'<div class="nb-output nb-html">\n{h}\n</div>'
        for mime in ('image/svg+xml', 'image/png', 'image/jpeg', 'image/gif'):
            if mime in data:
                raw = _src(data[mime])
                blob = raw.encode() if mime == 'image/svg+xml' else base64.b64decode(raw)
                return f'<div class="nb-output nb-image" markdown>\n\n![output]({self._save(blob, _EXT[mime])})\n\n</div>'
        if 'text/latex' in data: return _src(data['text/latex'])
        if 'text/plain' in data:
            return f'<div class="nb-output nb-result" markdown>\n\n{_fence(_src(data["text/plain"]), "text")}\n\n</div>'
        return ''

    def code_cell(self, cell) -> str:
        d, src = split_directives(_src(cell['source']))
        if d.get('include') == 'false': return ''
        parts = []
        if d.get('echo') != 'false' and src.strip():
            fold = d.get('code-fold')
            block = _fence(src, 'python')
            if fold: block = f'??? note "{d.get("code-summary", "Code")}"\n\n' + '\n'.join('    ' + l if l else '' for l in block.splitlines())
            parts.append(block)
        if d.get('output') != 'false':
            asis = d.get('output') == 'asis'
            parts += [x for x in (self.output(o, asis) for o in cell.get('outputs', [])) if x]
        return '\n\n'.join(parts)

    def render(self, nb:dict) -> str:
        parts = []
        for cell in nb['cells']:
            ct = cell['cell_type']
            if ct == 'raw':
                fm = _src(cell['source']).strip()
                if fm.startswith('---'):
                    import yaml
                    meta = yaml.safe_load(fm.strip('-\n')) or {}
                    self.title = str(meta.get('title', self.title)); self.description = str(meta.get('description', '') or '')
                    parts.append(f'# {self.title}')
                    if self.description: parts.append(f'<p class="nb-description">{self.fix_links_inline(self.description)}</p>')
                continue
            if ct == 'markdown':
                md = self.markdown_cell(cell)
                if '<!-- WARNING: THIS FILE WAS AUTOGENERATED!' in md: continue
                parts.append(md)
            elif ct == 'code': parts.append(self.code_cell(cell))
        return '\n\n'.join(p for p in parts if p and p.strip()) + '\n'

    def fix_links_inline(self, s:str) -> str:
        import markdown
        h = markdown.markdown(self.fix_links(s))
        return re.sub(r'^<p>|</p>$', '', h.strip())

# ----------------------------------------------------------------------------------------------------------
# site assembly

RUNS = ROOT/'runs'

def _run_dirs(runs:Path, name:str) -> list[Path]:
    "Recorded run files named `name` under runs/, without the demo's and archived (previous/) ones."
    return sorted(f for f in runs.rglob(name) if not {'demo', 'previous', 'checkpoints'} & set(f.relative_to(runs).parts[:-1]))

def _plain_links(md:str) -> str:
    "Markdown links to repository files (not pages of the site) as plain text."
    return re.sub(r'\[([^\]]+)\]\((?!https?:)[^)]+\)', r'`\1`', md)

def recorded_runs_md(w:'PageWriter', runs:Path=RUNS) -> str:
    "The Train page's last section: every training run recorded under runs/ (its metrics.jsonl), a table and its loss curves."
    recs = _run_dirs(runs, 'metrics.jsonl')
    head = ('## Recorded runs\n\nThe training runs recorded under `runs/` (each directory holds the executed papermill notebook, '
            '`metrics.jsonl` and `train_result.json`; the checkpoints stay out of git). The run above is this page\'s own smoke '
            'run; these are the real ones, drawn from their `metrics.jsonl` at build time.\n')
    if not recs: return head + '\n*No run is recorded under `runs/` in this checkout yet.*\n'
    rows = ['| run | stage | steps | epochs | train / val clips | best val loss | training time | data |', '|---|---|---|---|---|---|---|---|']
    figs = []
    try:
        os.environ.setdefault('MPLBACKEND', 'Agg')
        import io
        from stickgen.train import read_metrics, plot_metrics
    except Exception as e:   # a checkout without the package: the table alone
        print(f'docs: warning: run curves not drawn ({e})', file=sys.stderr); plot_metrics = None
    for m in recs:
        run = m.parent.relative_to(runs).as_posix()
        r = json.loads((m.parent/'train_result.json').read_text()) if (m.parent/'train_result.json').exists() else {}
        fmt = lambda v, f: f.format(v) if isinstance(v, (int, float)) else '–'
        rows.append(f"| {run} | {r.get('stage', '–')} | {fmt(r.get('global_step'), '{:,}')} | {fmt(r.get('epochs_run'), '{}')} | "
                    f"{fmt(r.get('train_samples'), '{:,}')} / {fmt(r.get('val_samples'), '{:,}')} | {fmt(r.get('best_val_loss'), '{:.4f}')} | "
                    f"{fmt((r.get('seconds') or 0)/60 if r.get('seconds') else None, '{:.1f} min')} | `{(r.get('sources') or {}).get('data_path', '–')}` |")
        if plot_metrics is not None:
            import matplotlib.pyplot as plt
            fig = plot_metrics(read_metrics(m), title=run)
            buf = io.BytesIO(); fig.savefig(buf, format='png', dpi=72); plt.close(fig)
            figs.append(f'### {run}\n\n![loss curves of {run}]({w._save(buf.getvalue(), ".png")})')
    return head + '\n' + '\n'.join(rows) + '\n\n' + '\n\n'.join(figs) + '\n'

def recorded_benches_md(w:'PageWriter', runs:Path=RUNS) -> str:
    "The Eval page's last section: the runs index and every StickGen-Bench table (bench.md, bench.png) recorded under runs/."
    head = ('## Recorded benchmarks\n\nThe evaluations recorded under `runs/` by `50_eval` / `stickgen eval` (the page above runs a '
            'small smoke bench), read at build time.\n')
    parts = []
    idx = runs/'README.md'
    if idx.exists():
        table = [l for l in idx.read_text().splitlines() if l.startswith('|')]
        if table: parts.append('### Runs index (`runs/README.md`)\n\n' + _plain_links('\n'.join(table)))
    for b in _run_dirs(runs, 'bench.md') + _run_dirs(runs, 'bench_real.md'):   # synthetic test split, then real data (#15)
        rel = b.parent.relative_to(runs).as_posix() + (' (real data)' if b.name == 'bench_real.md' else '')
        body = re.sub(r'^# .*\n', '', b.read_text(), count=1).strip()
        img = b.parent/'bench.png'
        parts.append(f'### {rel}\n\n{_plain_links(body)}' + (f'\n\n![StickGen-Bench of {rel}]({w._save(img.read_bytes(), ".png")})' if img.exists() else ''))
    if not parts: return head + '\n*No benchmark is recorded under `runs/` in this checkout yet.*\n'
    return head + '\n' + '\n\n'.join(parts) + '\n'

RECORDED = {'train': recorded_runs_md, 'eval': recorded_benches_md}   # page stem -> its section of recorded results

def doc_prefix() -> str:
    from nbdev.config import get_config
    cfg = get_config()
    host, base = str(cfg.get('doc_host', '') or ''), str(cfg.get('doc_baseurl', '') or '')
    return (host.rstrip('/') + '/' + base.strip('/') + '/').replace(':/', '://').replace(':///', '://') if host else ''

def resolve_doclinks(md:str, anchors:dict[str, set], where:str) -> str:
    "nbdev symbol links -> `page.md#anchor`; a missing page unlinks (keeps the text), a missing anchor falls back to its class."
    def target(stem, anchor):
        if stem not in anchors: return None
        a = anchor
        while a and a not in anchors[stem]: a = a.rpartition('.')[0]
        return stem, a
    def mdlink(m):
        t = target(m.group(2), m.group(3))
        if t is None:
            print(f'docs: warning: {where}: `{m.group(1)}` links to {m.group(2)}.html, which no notebook builds; left unlinked', file=sys.stderr)
            return m.group(1)
        return f'[{m.group(1)}]({t[0]}.md' + (f'#{t[1]}' if t[1] else '') + ')'
    md = re.sub(r'\[([^\]]*)\]\(@@DOCLINK:([\w.-]+)\|([\w.-]*)@@\)', mdlink, md)
    def other(m):
        t = target(m.group(1), m.group(2)) or (m.group(1), '')
        return f'{t[0]}.html' + (f'#{t[1]}' if t[1] else '')
    return re.sub(r'@@DOCLINK:([\w.-]+)\|([\w.-]*)@@', other, md)

def api_page(entries:list[tuple[str, str, list[dict]]]) -> str:
    out = ['# API reference', '',
           'Every exported function and class, from the `show_doc` entries nbdev adds after each `#| export` cell. '
           'Each name links to its entry in the notebook that defines it, next to the explanation and examples.', '']
    for stem, title, api in entries:
        if not api: continue
        out += [f'## [{title}]({stem}.md)', '', '| name | summary |', '|---|---|']
        for e in api:
            name = e['name'].replace('_', '\\_')
            out.append(f'| [`{e["name"]}`]({stem}.md#{e["anchor"]}) | {e["summary"].replace("|", "&#124;")} |')
        out.append('')
    return '\n'.join(out) + '\n'

VIEWER_MD = """# Motion viewer

> The `.motion` web viewer from `stickgen/viewer/` (shipped with the package), playing a sample clip exported at build time.

{body}
"""


def export_sample_clip(dest:Path) -> str:
    "Export a sample `.motion` clip with `stickgen.renderer.export_motion`; returns a description of what it is."
    code = r'''
import sys
from pathlib import Path
from stickgen.renderer import export_motion
from stickgen.datasets import generate_scene
sample, what = generate_scene(0), 'a scene from the story engine (`stickgen.datasets.generate_scene(0)`)'
export_motion(sample, Path(sys.argv[1]))
print(what)
'''
    r = subprocess.run([sys.executable, '-c', code, str(dest)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if r.returncode: raise RuntimeError(f'exporting the sample clip failed:\n{r.stderr[-3000:]}')
    return r.stdout.strip().splitlines()[-1]

def embed_sample(viewer:Path) -> Path:
    "viewer/sample.html: the viewer page with sample.motion inlined and played on load (no fetch, so it works from file://)."
    clip = (viewer/'sample.motion').read_text().replace('</', '<\\/')          # safe inside <script>
    page = (viewer/'index.html').read_text()
    play = (f'<script>window.viewer.load({clip}).then(() => {{ window.viewer.setLoop(true); window.viewer.play(); }});</script>\n')
    assert '</body>' in page, 'viewer/index.html has no </body>'
    out = viewer/'sample.html'
    out.write_text(page.replace('</body>', play + '</body>', 1))
    return out

def viewer_dir() -> Path|None:
    d = ROOT/'stickgen'/'viewer'
    return d if (d/'index.html').is_file() else None

def add_viewer(docs:Path) -> tuple[str, bool]:
    "Copy the viewer and a sample clip into the site; returns the page's Markdown and whether it is live."
    vd = viewer_dir()
    if vd is None:
        return VIEWER_MD.format(body='!!! warning "Not built yet"\n    `stickgen/viewer/index.html` does not exist in this checkout, so the viewer is not part of this build.'), False
    out = docs/'viewer'
    shutil.copytree(vd, out, ignore=shutil.ignore_patterns('__pycache__', '*.py', '*.pyc'))
    try: what = export_sample_clip(out/'sample.motion')
    except Exception as e:
        print(f'docs: warning: {e}', file=sys.stderr)
        return VIEWER_MD.format(body='!!! warning "No sample clip"\n    `stickgen.renderer.export_motion` is not available in this checkout yet.'), False
    embed_sample(out)
    body = (f'The clip is {what}, written to `sample.motion` with `stickgen.renderer.export_motion` and embedded in '
            '`viewer/sample.html`, so the page plays it whether the site is served or opened from disk (`file://`, where a '
            'browser refuses to fetch files). [Open the viewer on its own page](viewer/sample.html){target=_blank}; '
            '`viewer/index.html?src=clip.motion` loads any served clip, and the viewer\'s file picker any local one.\n\n'
            '<iframe id="stickgen-viewer" src="viewer/sample.html" title="stickgen motion viewer" '
            'style="width:100%; height:600px; border:1px solid var(--md-default-fg-color--lightest); border-radius:4px"></iframe>\n')
    return VIEWER_MD.format(body=body), True

def write_config(stage:Path, docs:Path, site:Path, nav:list) -> Path:
    import yaml
    cfg = {'INHERIT': os.path.relpath(ROOT/'mkdocs.yml', stage), 'docs_dir': str(docs.resolve()), 'site_dir': str(site.resolve()), 'nav': nav}
    p = stage/'mkdocs.yml'
    p.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    return p

def check_site(site:Path) -> list[str]:
    "Every local href/src in the built HTML must exist, and every #anchor must be an id on its page."
    from html.parser import HTMLParser
    class P(HTMLParser):
        def __init__(self): super().__init__(); self.ids, self.refs = set(), []
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if a.get('id'): self.ids.add(a['id'])
            if tag == 'a' and a.get('name'): self.ids.add(a['name'])
            for k in ('href', 'src', 'poster'):
                if a.get(k) and not (tag == 'link' and a.get('rel') in ('canonical',)): self.refs.append(a[k])
    parsed = {}
    for f in site.rglob('*.html'):
        p = P(); p.feed(f.read_text(errors='replace')); parsed[f.resolve()] = p
    bad = []
    for f, p in parsed.items():
        rel = f.relative_to(site.resolve())
        if 'viewer' in rel.parts or rel.name == '404.html': continue   # the viewer resolves its own files; 404 uses site_url
        for ref in p.refs:
            if re.match(r'^([a-z][\w+.-]*:|//)', ref) or ref.startswith('?'): continue
            path, _, frag = ref.partition('#')
            path = path.split('?')[0]
            target = (f.parent/path).resolve() if path else f
            if target.is_dir(): target = target/'index.html'
            if not target.exists(): bad.append(f'{f.relative_to(site.resolve())}: missing {ref}'); continue
            if frag and target.suffix == '.html' and target in parsed and frag not in parsed[target].ids:
                bad.append(f'{f.relative_to(site.resolve())}: no anchor #{frag} in {target.relative_to(site.resolve())}')
    return sorted(set(bad))

def build(out:Path, proc:Path, cache:Path, exec_re:str, timeout:int, jobs:int, strict:bool=True, use_cache:bool=True) -> dict:
    t0 = time.time()
    nbs = discover_notebooks()
    if not nbs: raise SystemExit('docs: no notebooks in nbs/')
    env = env_hash()
    proc.mkdir(parents=True, exist_ok=True); cache.mkdir(parents=True, exist_ok=True)
    todo_exec, todo_plain, results = [], [], {}
    for nb in nbs:
        execute = bool(re.search(exec_re, nb.stem))
        hit = None
        for mode in (['exec'] if execute else ['exec', 'plain']):   # an executed cache entry is always preferred
            c = cache/f'{nb.stem}.{mode}.{nb_key(nb, env, mode)}.ipynb'
            if use_cache and c.exists(): hit = c; break
        if hit: results[nb] = hit; continue
        mode = 'exec' if execute else 'plain'
        c = cache/f'{nb.stem}.{mode}.{nb_key(nb, env, mode)}.ipynb'
        (todo_exec if execute else todo_plain).append((nb, c))
    n_cached = len(results)
    print(f'docs: {len(nbs)} notebooks: {n_cached} from cache, {len(todo_exec)} to execute, {len(todo_plain)} without executing')

    failures = []
    def run(jobs_, execute):
        args = [sys.executable, __file__, '_worker', *[f'{s}={d}' for s, d in jobs_], '--timeout', str(timeout)]
        if execute: args.append('--execute')
        names = ', '.join(s.name for s, _ in jobs_)
        t = time.time()
        limit = timeout + 60 if execute else 120 + 30*len(jobs_)
        try:
            r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            failures.append(f'{names}: did not finish within {limit} s (per-notebook timeout; --timeout)')
            print(f'docs:   FAILED {names}: timed out after {limit} s', file=sys.stderr); return
        if r.returncode:
            failures.append(f'{names}: exit code {r.returncode}\n{r.stderr[-6000:]}')
            print(f'docs:   FAILED {names} (details at the end)', file=sys.stderr); return
        for line in r.stderr.splitlines():
            if line.startswith('docs: warning'): print(line, file=sys.stderr)
        for s, d in jobs_: results[s] = d
        print(f'docs:   {"executed" if execute else "processed"} {names} in {time.time()-t:.1f}s')
    with ThreadPoolExecutor(max(1, jobs)) as ex:
        futs = [ex.submit(run, [j], True) for j in todo_exec]
        if todo_plain: futs.append(ex.submit(run, todo_plain, False))
        for f in futs: f.result()
    if failures:
        msg = '\n\n'.join(failures)
        raise SystemExit(f'\ndocs: BUILD FAILED: {len(failures)} notebook job(s) failed to execute/process:\n\n{msg}')
    # prune old cache entries for these notebooks
    keep = {p.resolve() for p in results.values()}
    for c in cache.glob('*.ipynb'):
        if c.resolve() not in keep and time.time() - c.stat().st_mtime > 3600: c.unlink()

    # processed notebooks land in <proc>/ like nbdev-proc-nbs's output
    for nb in nbs: shutil.copyfile(results[nb], proc/nb.name)

    stage = proc/'_mkdocs'
    if stage.exists(): shutil.rmtree(stage)
    docs = stage/'docs'; docs.mkdir(parents=True)
    stems = {nb.name: ('index' if nb.stem == 'index' else page_name(nb)) for nb in nbs}
    dup = {s for s in stems.values() if list(stems.values()).count(s) > 1}
    if dup: raise SystemExit(f'docs: notebooks map to the same page name {dup}: rename one')
    prefix = doc_prefix()
    nav, api_entries, pages, executed, rendered = [], [], [], {}, {}
    for nb in nbs:
        pnb = json.loads((proc/nb.name).read_text())
        stem = stems[nb.name]
        w = PageWriter(stem, docs, stems, prefix)
        rendered[stem] = w.render(pnb)
        if stem in RECORDED: rendered[stem] += '\n' + RECORDED[stem](w)
        executed[nb.name] = bool(pnb.get('metadata', {}).get('stickgen_docs', {}).get('executed'))
        plain = w.title.replace('`', '')
        title = 'Home' if stem == 'index' else f'{nb.stem.split("_")[0]} · {plain}' if re.match(r'\d', nb.stem) else plain
        nav.append({title: f'{stem}.md'})
        mod = re.search(r'^\s*#\|\s*default_exp\s+(\S+)', nb.read_text().replace('\\n', '\n'), re.M)
        api_entries.append((stem, w.title + (f' (`stickgen.{mod.group(1)}`)' if mod else ''), w.api))
        pages.append(dict(notebook=nb.name, page=f'{stem}.html', title=w.title, executed=executed[nb.name], api=len(w.api)))
    anchors = {stem: {e['anchor'] for e in api} for stem, _, api in api_entries}
    for stem, md in rendered.items(): (docs/f'{stem}.md').write_text(resolve_doclinks(md, anchors, f'{stem}.md'))
    (docs/'api.md').write_text(api_page(api_entries))
    vmd, live = add_viewer(docs)
    (docs/'viewer.md').write_text(vmd)
    nav += [{'API reference': 'api.md'}, {'Motion viewer': 'viewer.md'}]
    shutil.copyfile(ROOT/'scripts'/'docs_extra.css', docs/'extra.css') if (ROOT/'scripts'/'docs_extra.css').exists() else None
    if (ROOT/'nbs'/'images').is_dir(): shutil.copytree(ROOT/'nbs'/'images', docs/'images')   # images the notebooks' markdown links (e.g. the README's demo strip)
    cfgp = write_config(stage, docs, out.resolve(), nav)

    if out.exists(): shutil.rmtree(out)
    r = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '-q', '-f', str(cfgp)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})
    if r.returncode: raise SystemExit(f'docs: mkdocs build failed:\n{r.stdout}\n{r.stderr}')
    warns = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    for l in warns: print('docs: mkdocs:', l, file=sys.stderr)
    bad = check_site(out)
    for b in bad: print('docs: broken link:', b, file=sys.stderr)
    manifest = dict(pages=pages, viewer=live, api_page='api.html', viewer_page='viewer.html', broken_links=bad,
                    built_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), seconds=round(time.time() - t0, 1))
    (out/'pages.json').write_text(json.dumps(manifest, indent=1))
    n_html = len(pages) + 2
    print(f'docs: built {n_html} pages ({len(pages)} notebooks + API reference + viewer; '
          f'{sum(executed.values())} executed) into {out} in {time.time()-t0:.0f}s')
    if bad and strict: raise SystemExit(f'docs: {len(bad)} broken local link(s), see above')
    return manifest

def serve(site:Path, port:int, host:str='127.0.0.1'):
    import functools, http.server
    h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    srv = http.server.ThreadingHTTPServer((host, port), h)
    print(f'docs: serving {site} on http://{host}:{srv.server_address[1]}/ (Ctrl-C stops)')
    try: srv.serve_forever()
    except KeyboardInterrupt: pass

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['_worker']: return worker_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', default='_docs', help='site directory (default _docs)')
    p.add_argument('--proc', default='_proc', help='where processed notebooks go (default _proc, as nbdev-proc-nbs)')
    p.add_argument('--cache', default='_proc/.docs_cache', help='executed-notebook cache')
    p.add_argument('--exec-re', default='.', help='execute notebooks whose stem matches (default: all)')
    p.add_argument('--timeout', type=int, default=int(os.environ.get('DOCS_NB_TIMEOUT', 600)), help='seconds per notebook')
    p.add_argument('--jobs', type=int, default=int(os.environ.get('DOCS_JOBS', 1)))
    p.add_argument('--no-cache', action='store_true')
    p.add_argument('--no-strict', action='store_true', help='report broken local links without failing')
    p.add_argument('--serve', type=int, metavar='PORT', help='serve the site on 127.0.0.1:PORT after building')
    p.add_argument('--serve-only', action='store_true', help='serve an existing --out without building')
    a = p.parse_args(argv)
    os.chdir(ROOT)
    out = Path(a.out)
    if not a.serve_only:
        build(out, Path(a.proc), Path(a.cache), a.exec_re, a.timeout, a.jobs, strict=not a.no_strict, use_cache=not a.no_cache)
    if a.serve is not None or a.serve_only: serve(out, a.serve or 8000)

if __name__ == '__main__': main()
