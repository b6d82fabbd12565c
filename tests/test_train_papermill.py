"""The papermill run of 40_train as the mission spells it: from nbs/ (--cwd nbs), on a machine without the data, with `quick`
and `max_minutes` as parameters (no environment variables): it generates the default corpus, shows it, prints the time
estimate, trains and leaves a checkpoint."""
import json, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
pytest.importorskip('papermill')


def test_papermill_from_nbs_without_data(tmp_path):
    cfg = tmp_path/'run.yaml'
    cfg.write_text(f"base: tiny\ndata:\n  train_data: {tmp_path/'corpus.pt'}\n  synthetic_samples: 24\n")
    out = tmp_path/'40_train.ipynb'
    r = subprocess.run([sys.executable, '-m', 'papermill', 'nbs/40_train.ipynb', str(out), '--cwd', 'nbs', '-p', 'config', str(cfg),
                        '-p', 'quick', 'True', '-p', 'num_samples', '0', '-p', 'max_minutes', '1', '-p', 'render', 'False',
                        '-p', 'checkpoint_dir', str(tmp_path/'ck')], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path/'corpus.pt').exists() and (tmp_path/'ck'/'model_checkpoint_best.pth').exists()
    text = '\n'.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/markdown', ''))
                     for c in json.loads(out.read_text())['cells'] for o in c.get('outputs', []))
    assert 'does not exist: generating 24 synthetic samples' in text and '**24 samples**' in text
    assert 'time estimate (cpu, measured' in text
