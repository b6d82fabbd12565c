"""Write README.md from nbs/index.ipynb without Quarto (nbdev-readme needs it).

Markdown cells are copied, code cells become fenced blocks followed by their
text outputs; cells marked `#| hide` are left out and `#|` directive lines
are dropped.
"""
import json, re, sys
from pathlib import Path

def cell_source(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def render(nb:dict) -> str:
    parts = []
    for cell in nb['cells']:
        src = cell_source(cell)
        lines = src.splitlines()
        if any(l.strip().replace(' ', '') in ('#|hide', '#|hide:true') for l in lines): continue
        if cell['cell_type'] == 'markdown': parts.append(src.strip()); continue
        if cell['cell_type'] != 'code': continue
        code = '\n'.join(l for l in lines if not l.lstrip().startswith('#|')).strip()
        if code: parts.append(f"```python\n{code}\n```")
        for out in cell.get('outputs', []):
            txt = out.get('text') or out.get('data', {}).get('text/markdown') or out.get('data', {}).get('text/plain')
            if txt:
                txt = ''.join(txt) if isinstance(txt, list) else txt
                parts.append(txt.strip() if 'text/markdown' in out.get('data', {}) else f"```\n{txt.rstrip()}\n```")
    return '\n\n'.join(parts) + '\n'

def relink(md:str, nbs_dir:str='nbs') -> str:
    "Point relative links to notebooks (`00_schema.ipynb`) and images (`images/x.png`) at `nbs/`, since README.md sits at the repo root."
    md = re.sub(r'\]\(\.\./', '](', md)                   # ../runs/x.md from nbs/ is runs/x.md from the root
    return re.sub(r'\]\((?!https?:|/|#|nbs/|runs/)([^)\s]+\.(?:ipynb|png|gif|svg|jpg))', lambda m: f"]({nbs_dir}/{m.group(1)}", md)

def main(src='nbs/index.ipynb', dest='README.md'):
    nb = json.loads(Path(src).read_text())
    note = "<!-- generated from nbs/index.ipynb by scripts/make_readme.py (make export); edit the notebook, not this file -->\n\n"
    Path(dest).write_text(note + relink(render(nb)))

if __name__ == '__main__': main(*sys.argv[1:3])
