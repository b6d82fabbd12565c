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
from stickgen.plan import TIMELINE_FEATURES, plan_from_actions

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
    "The reference rows hold (total within 3%): the denoiser and the learned planner share the reference encoder's budget."
    c = count_parameters(build_model(model_config(variant), device='meta'))
    assert abs(c['total']/REFERENCE[variant] - 1) < 0.03, c
    assert abs((c['transformer_encoder'] + c['planner'])/ENCODER[variant] - 1) < 0.03
    assert c['planner'] > 0 and c['transformer_encoder'] > 0.8*ENCODER[variant]
    assert abs(c['text_projection']/TEXT[variant] - 1) < 0.05
    assert 0 < c['heads'] < HEADS[variant]          # the patch frame head is lighter than per-frame heads
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


def _timeline(B, T, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 50, (B, T, 1), generator=g), torch.rand(B, T, 1, len(TIMELINE_FEATURES), generator=g)


def test_padding_does_not_change_real_frames():
    "Padded frames (garbage motion and timeline, masked) change nothing on the real ones, also through the frame head's smoothing."
    torch.manual_seed(0)
    m = build_model('tiny').eval()
    with torch.no_grad(): m.pose_decoder.smooth.weight.normal_(0, 0.3)   # a trained head smooths across frames
    x, t, e = torch.randn(2, 16, 1, 20), torch.rand(2), torch.randn(2, 384)
    a, sc = _timeline(2, 16)
    ref = m(x, t, e, plan=(a, sc))
    pad = torch.cat([x, 50*torch.randn(2, 7, 1, 20)], 1)
    pa, psc = _timeline(2, 7, seed=1)
    mask = torch.arange(23)[None].expand(2, -1) < 16
    out = m(pad, t, e, plan=(torch.cat([a, pa], 1), torch.cat([sc, 9*psc], 1)), mask=mask)
    for k in ('x0', 'physics'):
        torch.testing.assert_close(out[k][:, :16], ref[k], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out['action_logits'][:, :2], ref['action_logits'], atol=1e-4, rtol=1e-4)


def test_loss_masks_padding():
    "What the padded frames hold does not reach the loss (the same noise draws, only the padding's content differs)."
    torch.manual_seed(0)
    m = build_model('tiny').eval()
    b = _batch(T=17)
    b['mask'][:, 12:] = False
    b2 = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in b.items()}
    b2['motion'][:, 12:] = 100
    b2['actions'][:, 12:] = 7
    b2['physics'][:, 12:] = 100
    w = replace(W, physics=0.2, foot_sliding=0.1, ground=0.1, diffusion=0.1)   # every term on
    torch.manual_seed(1); _, l1 = m.compute_loss(b, w)
    torch.manual_seed(1); _, l2 = m.compute_loss(b2, w)
    for k in ('pose', 'temporal', 'physics', 'ground', 'foot_sliding', 'diffusion'):
        assert abs(l1[k] - l2[k]) < 1e-4*max(1, abs(l1[k])), (k, l1[k], l2[k])
    assert all(np.isfinite(v) for v in l2.values())


def test_sampler_deterministic_and_seeded():
    m = build_model('tiny')
    e = torch.randn(1, 384)
    a, b, c = (m.generate(e, num_frames=20, steps=3, seed=s)['motion'] for s in (3, 3, 4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert m.training  # generate restores the mode


def test_cfg_scale_one_equals_conditional():
    "Guidance 1 on text (no plan) and 1/1 on text and plan are the plain conditional sampler; other scales are not."
    from stickgen.diffusion import ddim_sample, seeded_noise
    from stickgen.model import timeline_batch
    torch.manual_seed(0)
    m = build_model('tiny').eval()
    with torch.no_grad(): m.pose_decoder.linear.weight.normal_(0, 0.05)   # zero-initialised heads would hide the guidance
    e = torch.randn(2, 384)
    kw = dict(num_frames=15, steps=3, seed=5, restore_bones=False)
    g1 = m.generate(e, guidance=1.0, use_planner=False, **kw)['motion']
    with torch.no_grad():
        x = ddim_sample(lambda x_t, t: m(x_t, t, e)['x0'], seeded_noise((2, 15, 1, 20), 5), steps=3)
    torch.testing.assert_close(g1, m.denormalize(x)[:, :, 0])
    assert not torch.allclose(g1, m.generate(e, guidance=2.5, use_planner=False, **kw)['motion'])
    plan = plan_from_actions(torch.tensor([3]*8 + [5]*7))
    gp = m.generate(e, plan=plan, guidance=1.0, plan_guidance=1.0, **kw)['motion']
    tl = timeline_batch([plan, plan], 15, 1)
    with torch.no_grad():
        x = ddim_sample(lambda x_t, t: m(x_t, t, e, plan=tl)['x0'], seeded_noise((2, 15, 1, 20), 5), steps=3)
    torch.testing.assert_close(gp, m.denormalize(x)[:, :, 0])
    assert not torch.allclose(gp, m.generate(e, plan=plan, guidance=1.0, plan_guidance=3.0, **kw)['motion'])


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
    "With `use_camera` the camera track enters every patch token (its columns of the patch projection learn)."
    m = build_model(replace(model_config('tiny'), use_camera=True)).eval()
    b = _batch(T=10)
    b['camera'] = torch.randn(2, 10, 3)
    loss, _ = m.compute_loss(b, W)
    loss.backward()
    assert m.patch_embedding.proj.weight.grad.abs().sum() > 0
    x, t, e = torch.randn(2, 16, 1, 20), torch.rand(2), torch.randn(2, 384)
    with torch.no_grad(): assert not torch.allclose(m(x, t, e, camera=torch.zeros(2, 16, 3))['x0'], m(x, t, e, camera=torch.ones(2, 16, 3))['x0'])
    assert m.generate(b['embedding'], num_frames=10, steps=2, camera=b['camera'])['motion'].shape == (2, 10, 20)


def test_generate_given_a_plan_and_1d_embedding():
    "A given plan is the clip's timeline (its actions come back per frame); the planner writes one when none is given."
    m = build_model('tiny')
    plan = plan_from_actions(torch.tensor([3]*6 + [5]*6))
    g = m.generate(torch.randn(384), num_frames=12, plan=plan, steps=2)
    assert g['motion'].shape == (1, 12, 20) and g['actions'][0].tolist() == [3]*6 + [5]*6 and g['plans'] == [plan]
    with pytest.raises(StickgenError, match='generate: 2 plans for 1 sentences'):
        m.generate(torch.randn(384), num_frames=12, plan=[plan, plan], steps=1)
    auto = m.generate(torch.randn(384), num_frames=12, steps=1)
    assert len(auto['plans']) == 1 and auto['plans'][0].num_actors == 1
