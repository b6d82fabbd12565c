"The typed run schema (stickgen.config): one reader, wrong types / ranges / aliases refused in one line, CLI included."
import subprocess, sys
from pathlib import Path
import pytest
from stickgen.schema import StickgenError
from stickgen.config import load_config, RunConfig, TrainingConfig, LossWeights, SECTIONS, dump_config

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize('yaml_text,msg', [
    ('training:\n  batch_size: eight\n', "training.batch_size: expected an integer >= 1, got 'eight'"),
    ('training:\n  learning_rate: fast\n', "training.learning_rate: expected a number > 0, got 'fast'"),
    ('training:\n  epochs: -3\n', 'training.epochs: expected an integer >= 1, got -3'),
    ('training:\n  betas: 0.9\n', 'training.betas: expected a list of 2 numbers in [0, 1), got 0.9'),
    ('training:\n  bf16: 1\n', 'training.bf16: expected true or false, got 1'),
    ('data:\n  val_fraction: 1.5\n', 'data.val_fraction: expected a number in [0, 1), got 1.5'),
    ('loss:\n  pose: -1\n', 'loss.pose: expected a number >= 0, got -1'),
    ('lora:\n  target_modules: encoder\n', "lora.target_modules: expected a list of strings, got 'encoder'"),
    ('model:\n  image_encoder: vgg\n', 'model.image_encoder: expected one of lightweight_cnn, resnet, mini_vit or null'),
    ('lora:\n  target_modules: &a [x]\ndata:\n  parallax_image_size: *a\n', 'line 5: YAML aliases (*a) are not allowed in a config'),
    ('trainig:\n  epochs: 3\n', "unknown section 'trainig'; did you mean 'training'?"),
])
def test_bad_values_name_file_key_expectation_and_value(tmp_path, yaml_text, msg):
    p = tmp_path/'bad.yaml'; p.write_text('base: tiny\n' + yaml_text)
    with pytest.raises(StickgenError) as e: load_config(str(p))
    assert str(e.value).startswith(f"{p}: ") and msg in str(e.value) and '\n' not in str(e.value)


def test_overrides_are_checked_like_the_file():
    with pytest.raises(StickgenError, match='override: training.batch_size: expected an integer >= 1, got -1'): load_config('tiny', {'batch_size': -1})
    with pytest.raises(StickgenError, match="override 'max_actors'|override: data.max_actors"): load_config('tiny', {'max_actors': 'two'})
    c = load_config('tiny', {'learning_rate': '3e-4', 'epochs': 2.0, 'model.d_model': 64})
    assert (c.training.learning_rate, c.training.epochs, c.model.d_model) == (3e-4, 2, 64) and type(c.training.epochs) is int


def test_every_shipped_config_round_trips(tmp_path):
    for name in ('tiny', 'small', 'medium', 'large', 'sft_tiny', 'sft_small', 'sft_medium', 'sft_large'):
        c = load_config(name)
        assert RunConfig.from_dict(c.to_dict()) == c
        p = tmp_path/f'{name}.yaml'; dump_config(c, p)
        back = load_config(str(p))
        assert (back.model, back.training, back.data, back.loss, back.lora) == (c.model, c.training, c.data, c.loss, c.lora)


def test_the_configured_loss_weights_are_the_only_defaults():
    d = LossWeights()
    for name in ('tiny', 'small', 'medium', 'large'):
        w = load_config(name).loss
        assert (w.pose, w.temporal, w.action, w.physics, w.diffusion) == (d.pose, d.temporal, d.action, d.physics, d.diffusion), name


@pytest.mark.parametrize('args,msg', [
    (['--set', 'batch_size=-1'], 'override: training.batch_size: expected an integer >= 1, got -1'),
    (['--epochs', '-1'], "argument --epochs: expected an integer >= 1, got '-1'"),
    (['--nproc', '0'], "argument --nproc: expected an integer in [1, 1024], got '0'"),
    (['--set', 'learning_rate=fast'], "override: training.learning_rate: expected a number > 0, got 'fast'"),
])
def test_cli_refuses_in_one_line_before_any_work(tmp_path, args, msg):
    r = subprocess.run([str(Path(sys.executable).parent/'stickgen'), 'train', '--config', 'tiny', '--data_path', str(tmp_path/'none.pt'),
                        '--checkpoint_dir', str(tmp_path/'ck'), *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'ck').exists()
