"Dense checks of stickgen.model / stickgen.diffusion: parameter budgets, shapes, masking, sampler, CFG, LoRA."
import itertools, json
from dataclasses import replace
import numpy as np
import pytest
import torch

from stickgen.schema import StickgenError, standing_pose
from stickgen.config import ModelConfig, LoraConfig, LossWeights, load_config, IMAGE_ENCODERS, FUSIONS, VARIANTS
from stickgen.model import build_model, count_parameters, apply_lora, save_lora, load_lora, merge_lora, torch_physics
from stickgen.cli import params_cli

torch.set_num_threads(1)
REFERENCE = dict(small=7.2e6, medium=20.6e6, large=44.6e6)
REFERENCE_MM = dict(small=11.7e6, medium=25.1e6, large=71.3e6)
ENCODER = dict(small=6.3e6, medium=18.9e6, large=42.0e6)
TEXT = dict(small=656.6e3, medium=1.1e6, large=1.6e6)
HEADS = dict(small=200e3, medium=475e3, large=850e3)
W = LossWeights()   # the configured loss weights (configs/*.yaml)


def model_config(variant, **over) -> ModelConfig:
    "A variant's ModelConfig (read by the one config reader) with field overrides."
    return replace(load_config(variant).model, **over)


def _batch(B=2, T=12, D=384, A=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    pose = torch.from_numpy(standing_pose())
    shape = (B, T, 20) if A is None else (B, T, A, 20)
    motion = pose.expand(*shape).clone() + 0.05*torch.randn(*shape, generator=g)
    return dict(motion=motion, mask=torch.ones(B, T, dtype=torch.bool), actions=torch.randint(0, 50, (B, T), generator=g),
                physics=torch.zeros(B, T, 6), camera=torch.zeros(B, T, 3), embedding=torch.randn(B, D, generator=g))


@pytest.mark.parametrize('variant', list(REFERENCE))
def test_motion_only_budget(variant):
    c = count_parameters(build_model(model_config(variant), device='meta'))
    assert abs(c['total']/REFERENCE[variant] - 1) < 0.03, c
    assert abs(c['transformer_encoder']/ENCODER[variant] - 1) < 0.03
    assert abs(c['text_projection']/TEXT[variant] - 1) < 0.05
    assert abs(c['heads']/HEADS[variant] - 1) < 0.15
    assert c['image_encoder'] == 0 and c['fusion'] == 0


@pytest.mark.parametrize('variant', list(REFERENCE_MM))
def test_multimodal_budget(variant):
    c = count_parameters(build_model(model_config(variant, multimodal=True), device='meta'))
    assert abs(c['total']/REFERENCE_MM[variant] - 1) < 0.05, c


def test_component_sizes():
    sizes = {}
    for enc in IMAGE_ENCODERS:
        c = count_parameters(build_model(model_config('small', image_encoder=enc, fusion='gated', multimodal=True), device='meta'))
        sizes[enc] = c['image_encoder']
    assert abs(sizes['lightweight_cnn']/2.1e6 - 1) < 0.1
    assert abs(sizes['resnet']/11.7e6 - 1) < 0.05
    assert 4e6 <= sizes['mini_vit'] <= 5.2e6
    # as in the defaults: gated/concat/film over the lightweight CNN (small, medium), cross-attention over the ResNet (large)
    fus = {f: count_parameters(build_model(model_config('small', image_encoder='resnet' if f == 'cross_attention' else 'lightweight_cnn',
                                                             fusion=f), device='meta'))['fusion'] for f in FUSIONS}
    for f, ref in dict(gated=2.4e6, concat=2.1e6, film=2.2e6, cross_attention=15e6).items():
        assert abs(fus[f]/ref - 1) < 0.06, (f, fus[f])


def test_tiny_is_small():
    assert count_parameters(build_model('tiny'))['total'] <= 2e6


@pytest.mark.parametrize('variant', VARIANTS)
def test_shapes_every_variant(variant):
    m = build_model(model_config(variant)).eval()
    D = m.cfg.embedding_dim
    b = _batch(D=D, T=10)
    loss, logs = m.compute_loss(b, W)
    assert torch.isfinite(loss) and set(logs) >= {'pose', 'temporal', 'action', 'physics', 'diffusion', 'loss'}
    g = m.generate(b['embedding'], num_frames=10, steps=2, seed=0)
    assert g['motion'].shape == (2, 10, 20) and g['actions'].shape == (2, 10) and g['actions'].dtype == torch.int64


@pytest.mark.parametrize('enc,fus', list(itertools.product(IMAGE_ENCODERS, FUSIONS)))
def test_shapes_multimodal_combos(enc, fus):
    cfg = replace(model_config('tiny'), image_encoder=enc, fusion=fus, multimodal=True, image_size=64)
    m = build_model(cfg).eval()
    b = _batch(T=8)
    b['images'] = torch.rand(2, 2, 3, 64, 64)      # two views per clip
    loss, _ = m.compute_loss(b, W)
    assert torch.isfinite(loss)
    g = m.generate(b['embedding'], num_frames=8, steps=2, images=b['images'])
    assert g['motion'].shape == (2, 8, 20)
    # without images the model falls back to text only
    assert m.generate(b['embedding'], num_frames=8, steps=1)['motion'].shape == (2, 8, 20)


@pytest.mark.parametrize('variant', ['small', 'medium', 'large'])
def test_default_multimodal_forward(variant):
    m = build_model(model_config(variant, multimodal=True, image_size=64)).eval()
    b = _batch(B=1, T=6, D=1024)
    b['images'] = torch.rand(1, 3, 64, 64)
    with torch.no_grad(): loss, _ = m.compute_loss(b, W)
    assert torch.isfinite(loss)


def test_multi_actor_shapes():
    m = build_model('tiny').eval()
    b = _batch(T=9, A=2)
    loss, _ = m.compute_loss(b, W)
    assert torch.isfinite(loss)
    g = m.generate(b['embedding'], num_frames=9, steps=2, num_actors=2)
    assert g['motion'].shape == (2, 9, 2, 20)


def test_padding_does_not_change_real_frames():
    torch.manual_seed(0)
    m = build_model('tiny').eval()
    x, t, e = torch.randn(2, 16, 1, 20), torch.rand(2), torch.randn(2, 384)
    a = torch.randint(0, 60, (2, 16))
    ref = m(x, t, e, a)
    pad = torch.cat([x, 50*torch.randn(2, 7, 1, 20)], 1)
    pa = torch.cat([a, torch.randint(0, 60, (2, 7))], 1)
    mask = torch.arange(23)[None].expand(2, -1) < 16
    out = m(pad, t, e, pa, mask)
    for k in ('x0', 'physics', 'action_logits'):
        torch.testing.assert_close(out[k][:, :16], ref[k], atol=1e-4, rtol=1e-4)


def test_loss_masks_padding():
    torch.manual_seed(0)
    m = build_model('tiny').eval()
    b = _batch(T=12)
    b2 = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in b.items()}
    b2['motion'] = torch.cat([b['motion'], 100*torch.ones(2, 5, 20)], 1)
    b2['mask'] = torch.cat([b['mask'], torch.zeros(2, 5, dtype=torch.bool)], 1)
    b2['actions'] = torch.cat([b['actions'], torch.zeros(2, 5, dtype=torch.long)], 1)
    b2['physics'] = torch.cat([b['physics'], 100*torch.ones(2, 5, 6)], 1)
    b2['camera'] = torch.zeros(2, 17, 3)
    torch.manual_seed(1); _, l1 = m.compute_loss(b, W)
    torch.manual_seed(1); _, l2 = m.compute_loss(b2, W)
    for k in ('pose', 'action', 'ground'):
        assert abs(l1[k] - l2[k]) < 1e-3*max(1, abs(l1[k])), (k, l1[k], l2[k])
    assert all(np.isfinite(v) for v in l2.values())


def test_sampler_deterministic_and_seeded():
    m = build_model('tiny')
    e = torch.randn(1, 384)
    a, b, c = (m.generate(e, num_frames=20, steps=3, seed=s)['motion'] for s in (3, 3, 4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert m.training  # generate restores the mode


def test_cfg_scale_one_equals_conditional():
    m = build_model('tiny').eval()
    e = torch.randn(2, 384)
    g1 = m.generate(e, num_frames=15, steps=3, guidance=1.0, seed=5)['motion']
    # the purely conditional sampler, by hand
    from stickgen.diffusion import ddim_sample, seeded_noise
    with torch.no_grad():
        x = ddim_sample(lambda x_t, t: m(x_t, t, e)['x0'], seeded_noise((2, 15, 1, 20), 5), steps=3)
    torch.testing.assert_close(g1, m.denormalize(x)[:, :, 0])
    g25 = m.generate(e, num_frames=15, steps=3, guidance=2.5, seed=5)['motion']
    assert not torch.allclose(g1, g25)


def test_physics_gate():
    cfg = replace(model_config('tiny'), physics_gate=True)
    m = build_model(cfg)
    assert count_parameters(m)['heads'] > count_parameters(build_model('tiny'))['heads']
    loss, _ = m.compute_loss(_batch(), W)
    loss.backward()
    assert m.physics_gate.gate.weight.grad is not None and m.physics_gate.gate.weight.grad.abs().sum() > 0


def test_torch_physics_matches_schema():
    from stickgen.schema import compute_physics
    rng = np.random.default_rng(0)
    mo = np.stack([standing_pose(x=0.03*i) for i in range(30)]) + 0.02*rng.standard_normal((30, 20)).astype(np.float32)
    np.testing.assert_allclose(torch_physics(torch.from_numpy(mo)[None])[0].numpy(), compute_physics(mo), atol=1e-3)


def test_config_errors(tmp_path):
    with pytest.raises(StickgenError, match="config 'gigantic' not found"): model_config('gigantic')
    p = tmp_path/'bad.yaml'; p.write_text('model:\n  d_model: 64\n  nhead: 4\n  layers: 3\n')
    with pytest.raises(StickgenError, match="unknown key 'model.layers'; did you mean 'num_layers'"): model_config(str(p))
    with pytest.raises(StickgenError, match='embedding'):
        build_model('tiny').compute_loss(_batch(D=100), W)
    with pytest.raises(StickgenError, match="unknown key 'loss.pse'"): LossWeights.from_dict(dict(pse=1.0))


def test_compute_loss_uses_the_weights_it_is_given():
    "No second table of defaults: doubling one weight changes the loss by exactly that term."
    m = build_model('tiny').eval()
    torch.manual_seed(3); l1, t1 = m.compute_loss(_batch(), W)
    torch.manual_seed(3); l2, t2 = m.compute_loss(_batch(), replace(W, temporal=2*W.temporal))
    assert t1 == {**t2, 'loss': t1['loss']}
    assert abs((float(l2.detach()) - float(l1.detach())) - W.temporal*t1['temporal']) < 1e-5


def test_sft_config_inherits_model():
    assert model_config('sft_small') == model_config('small')


# -- LoRA --

def _lora_model():
    torch.manual_seed(0)
    m = build_model('tiny')
    base = {n: p.detach().clone() for n, p in m.named_parameters()}
    apply_lora(m, LoraConfig(rank=4, alpha=8, dropout=0.0, target_modules=['transformer_encoder', 'pose_decoder']))
    return m, base


def test_lora_freezes_base_and_trains_adapters():
    m, base = _lora_model()
    trainable = [n for n, p in m.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n for n in trainable)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        loss, _ = m.compute_loss(_batch(), W); opt.zero_grad(); loss.backward(); opt.step()
    now = {n.replace('.base_layer', ''): p for n, p in m.named_parameters() if 'lora_' not in n}
    for n, p in base.items(): assert torch.equal(now[n], p), n
    assert any(p.abs().sum() > 0 for n, p in m.named_parameters() if 'lora_B' in n)


def test_lora_merge_equals_base_plus_adapter(tmp_path):
    m, base = _lora_model()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if 'lora_B' in n: p.normal_(0, 0.05)
    m.eval()
    x, t, e = torch.randn(1, 10, 1, 20), torch.rand(1), torch.randn(1, 384)
    with torch.no_grad(): y = m(x, t, e)['x0']
    save_lora(m, tmp_path/'a.safetensors')
    assert (tmp_path/'a.safetensors').stat().st_size < 1e6
    # adapter loads on a fresh base model
    fresh = build_model('tiny'); fresh.load_state_dict(base, strict=False); fresh.eval()
    with torch.no_grad(): y_base = fresh(x, t, e)['x0']
    assert not torch.allclose(y_base, y)
    load_lora(fresh, tmp_path/'a.safetensors')
    with torch.no_grad(): torch.testing.assert_close(fresh(x, t, e)['x0'], y, atol=1e-5, rtol=1e-5)
    # merged = base + B A * alpha / r, as plain Linear layers
    merged = merge_lora(m)
    assert not any('lora' in n for n, _ in merged.named_parameters())
    with torch.no_grad(): torch.testing.assert_close(merged(x, t, e)['x0'], y, atol=1e-5, rtol=1e-5)
    W = merged.transformer_encoder.layers[0].attn.qkv.weight
    W0 = base['transformer_encoder.layers.0.attn.qkv.weight']
    assert not torch.equal(W, W0)


@pytest.mark.parametrize('variant', list(REFERENCE))
def test_lora_trainable_counts(variant):
    m = build_model(model_config(variant))
    apply_lora(m, load_config(variant).lora)
    c = count_parameters(m)
    assert 0 < c['trainable'] < 0.1*c['total']


def test_params_cli(capsys):
    assert params_cli(['--variant', 'small']) == 0
    out = capsys.readouterr().out
    assert 'Transformer Encoder' in out and 'Text Projection' in out
    assert params_cli(['--variant', 'tiny', '--multimodal', '--json']) == 0
    d = json.loads(capsys.readouterr().out)
    assert d['image_encoder'] > 0


def test_camera_conditioning():
    m = build_model(replace(model_config('tiny'), use_camera=True)).eval()
    b = _batch(T=10)
    b['camera'] = torch.randn(2, 10, 3)
    loss, _ = m.compute_loss(b, W)
    loss.backward()
    assert m.camera_embedding.weight.grad.abs().sum() > 0
    assert m.generate(b['embedding'], num_frames=10, steps=2, camera=b['camera'])['motion'].shape == (2, 10, 20)


def test_generate_given_actions_and_1d_embedding():
    m = build_model('tiny')
    acts = torch.full((12,), 3)
    g = m.generate(torch.randn(384), num_frames=12, actions=acts, steps=2)
    assert g['motion'].shape == (1, 12, 20) and torch.equal(g['actions'][0], acts)
    with pytest.raises(StickgenError, match='actions'):
        m.generate(torch.randn(384), num_frames=10, actions=acts, steps=1)
