"""Property-based check of the data contract: malformed samples never pass silently
and never raise anything but SchemaError."""
import numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from stickgen.schema import make_sample, validate_sample, standing_pose, SchemaError, REQUIRED_FIELDS, NUM_ACTIONS

def valid_sample(T=12, actors=None):
    if actors:
        m = np.stack([np.stack([standing_pose(x=a) for a in range(actors)]) for _ in range(T)])
    else: m = np.stack([standing_pose(x=0.01*i) for i in range(T)])
    return make_sample(m, np.zeros(T, np.int64), "a person stands", embedding=np.ones(8, np.float32))

FIELDS = list(REQUIRED_FIELDS) + ['embedding']

def _corrupt(sample, kind, field, data):
    s = dict(sample)
    v = s.get(field)
    if kind == 'drop':
        if field == 'embedding': s['embedding'] = 'not a tensor'
        else: s.pop(field)
    elif kind == 'dtype':
        if isinstance(v, torch.Tensor):
            s[field] = v.to(torch.float64 if v.dtype != torch.float64 else torch.float32)
        else: s[field] = 123
    elif kind == 'shape':
        if isinstance(v, torch.Tensor):
            cut = data.draw(st.integers(1, max(1, v.shape[-1])))
            if field == 'embedding': s[field] = v[None].expand(2, -1)           # any D is fine, but 1-D only
            elif v.ndim > 1 and v.shape[-1] > cut: s[field] = v[..., :-cut]
            else: s[field] = torch.cat([v, v[:1]], 0)                         # one frame too many
        else: s[field] = ''
    elif kind == 'nonfinite':
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            w = v.clone().reshape(-1)
            w[data.draw(st.integers(0, w.numel()-1))] = data.draw(st.sampled_from([float('nan'), float('inf'), -float('inf')]))
            s[field] = w.reshape(v.shape)
        else: s['motion'] = torch.full_like(s['motion'], float('nan'))
    elif kind == 'range':
        a = s['actions'].clone()
        a[data.draw(st.integers(0, len(a)-1))] = data.draw(st.one_of(st.integers(-1000, -1), st.integers(NUM_ACTIONS, 10**6)))
        s['actions'] = a
    elif kind == 'empty':
        s['motion'] = s['motion'][:0]
    elif kind == 'type':
        s[field] = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.floats(), max_size=3)))
        if field == 'embedding' and s[field] is None: s[field] = [1.0]
        if field in ('description', 'source') and isinstance(s[field], str) and s[field].strip(): s[field] = 5
    return s

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(['drop', 'dtype', 'shape', 'nonfinite', 'range', 'empty', 'type']),
       field=st.sampled_from(FIELDS), actors=st.sampled_from([None, 2]), data=st.data())
def test_malformed_samples_raise_schema_error(kind, field, actors, data):
    bad = _corrupt(valid_sample(actors=actors), kind, field, data)
    with pytest.raises(SchemaError):
        validate_sample(bad, index=7)

@settings(max_examples=50, deadline=None)
@given(T=st.integers(1, 40), actors=st.sampled_from([None, 1, 3]))
def test_valid_samples_pass(T, actors):
    s = valid_sample(T, actors)
    assert validate_sample(s) is s

@settings(max_examples=200, deadline=None)
@given(obj=st.recursive(st.none() | st.integers() | st.floats() | st.text(max_size=5),
                        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=10))
def test_arbitrary_objects_only_raise_schema_error(obj):
    with pytest.raises(SchemaError):
        validate_sample(obj)
