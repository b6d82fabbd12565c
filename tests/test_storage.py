"Store format: exact round trips with .pt, random access, DataLoader/DistributedSampler use, errors."
import numpy as np, pytest, torch, pickle
from stickgen.schema import *
from stickgen.datasets import generate_dataset
from stickgen.storage import *

@pytest.fixture(scope='module')
def corpus():
    c = generate_dataset(10, seed=5, augment=True)
    c[3]['quality_score'] = 0.5
    c[4]['embedding'] = torch.ones(7)
    return c

def _same(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        if isinstance(a[k], torch.Tensor): assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
        else: assert a[k] == b[k], k

def test_roundtrip_pt_store_pt(corpus, tmp_path):
    pt = save_samples(corpus, tmp_path/'c.pt')
    st = pt_to_store(pt, tmp_path/'st', shard_size=7)
    s = open_samples(st)
    assert len(s) == len(corpus) and len(s.meta['shards']) == 8
    ref = load_samples(pt)
    for i in range(len(ref)): _same(s[i], ref[i])
    back = load_samples(store_to_pt(st, tmp_path/'back.pt'))
    for a, b in zip(back, ref): _same(a, b)
    _same(s[-2], ref[-2])
    with pytest.raises(IndexError): s[len(ref)]

def test_open_pt_is_mmapped_and_lists_pass_through(corpus, tmp_path):
    pt = save_samples(corpus[:5], tmp_path/'c.pt')
    d = open_samples(pt)
    assert len(d) == 5 and torch.equal(d[2]['motion'], corpus[2]['motion'])
    assert open_samples(corpus) is corpus

def test_store_pickles_without_data(corpus, tmp_path):
    s = open_samples(write_samples(corpus, tmp_path/'st'))
    s[0]
    blob = pickle.dumps(s)
    assert len(blob) < 20_000
    _same(pickle.loads(blob)[5], s[5])

def test_codes_and_descriptions(corpus, tmp_path):
    s = open_samples(write_samples(corpus, tmp_path/'st', shard_size=4))
    assert list(s.codes('split')) == [c['split'] for c in corpus]
    assert list(s.codes('source')) == [c['source'] for c in corpus]
    assert s.descriptions() == [c['description'] for c in corpus]
    assert s.metadata(3)['quality_score'] == 0.5

def test_columns(corpus, tmp_path):
    s = open_samples(write_samples(corpus, tmp_path/'st'))
    with pytest.raises(StickgenError): s.add_column('embedding', np.zeros((3, 4), np.float32))
    s.add_column('text_vec', np.arange(len(corpus)*3, dtype=np.float32).reshape(-1, 3))
    assert open_samples(tmp_path/'st')[2]['text_vec'].tolist() == [6.0, 7.0, 8.0]

def test_dataset_collate_distributed(corpus, tmp_path):
    s = write_samples([dict(c, embedding=torch.ones(4)) for c in corpus], tmp_path/'st')
    ds = MotionDataset(s, window=120, seed=1)
    assert all(ds[i]['motion'].shape[0] <= 120 for i in range(len(ds)))
    ds2 = MotionDataset(s, window=120, seed=1); ds2.set_epoch(1)
    assert any(ds[i]['start'] != ds2[i]['start'] for i in range(len(ds)))
    from torch.utils.data import DataLoader, DistributedSampler
    seen = []
    for rank in range(2):
        dl = DataLoader(ds, batch_size=3, sampler=DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=0),
                        collate_fn=collate_motion, num_workers=0)
        for b in dl:
            T = b['motion'].shape[1]
            assert b['mask'].shape == (len(b['description']), T) and b['actions'].shape == b['mask'].shape
            assert b['camera'].shape[-1] == 3 and b['embedding'].shape[1] == 4
            seen += b['index'].tolist()
    assert sorted(set(seen)) == list(range(len(ds)))
    b = collate_motion([MotionDataset(s, max_actors=1)[i] for i in range(len(ds))])
    assert b['motion'].ndim == 3 and b['physics'].shape[-1] == 6
    full = collate_motion([MotionDataset(s, window=None)[i] for i in range(len(ds))])
    assert full['motion'].ndim == 4 and full['actor_mask'].shape == (len(ds), full['motion'].shape[2])
    assert (full['mask'].sum(1) == full['length']).all()

def test_dataloader_workers(corpus, tmp_path):
    from torch.utils.data import DataLoader
    s = write_samples([{k: v for k, v in c.items() if k != 'embedding'} for c in corpus], tmp_path/'st')
    dl = DataLoader(MotionDataset(s, max_actors=1), batch_size=4, collate_fn=collate_motion, num_workers=2)
    assert sum(len(b['description']) for b in dl) == len(corpus)

def test_split_filter(corpus, tmp_path):
    s = write_samples(corpus, tmp_path/'st')
    for sp in ('train', 'val', 'test'):
        ds = MotionDataset(s, split=sp)
        assert len(ds) == sum(c['split'] == sp for c in corpus)

def test_errors(corpus, tmp_path):
    with pytest.raises(StickgenError, match='no such file'): open_samples(tmp_path/'missing')
    (tmp_path/'x.txt').write_text('hi')
    with pytest.raises(StickgenError, match='expected a .pt'): open_samples(tmp_path/'x.txt')
    with pytest.raises(StickgenError, match='refusing to overwrite'): write_samples(corpus, tmp_path)
    with pytest.raises(SchemaError, match='motion'): write_samples([dict(corpus[0], motion=torch.zeros(3, 5))], tmp_path/'bad')
    assert not (tmp_path/'bad').exists()
    with pytest.raises(StickgenError, match='no embedding'):
        collate_motion([dict(corpus[0], embedding=torch.ones(3)), corpus[1]])
