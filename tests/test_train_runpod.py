"The RunPod entrypoints, run locally on CPU with the tiny variant and the same environment variables."
import json, os, subprocess, sys
from pathlib import Path
import pytest
from stickgen.schema import save_samples
from stickgen.checkpoints import load_checkpoint
from test_train import toy_samples, REPO

pytest.importorskip('papermill')

def entry(script, env):
    e = {**os.environ, 'PYTHON': sys.executable, 'OMP_NUM_THREADS': '1', 'PATH': f"{Path(sys.executable).parent}:{os.environ['PATH']}",
         'EPOCHS': '1', 'MAX_STEPS': '1', 'WINDOW': '16', 'NUM_CLIPS': '1', 'RENDER': 'false', 'NPROC': '1', **env}
    return subprocess.run(['bash', str(REPO/'runpod'/script)], env=e, cwd=REPO, capture_output=True, text=True, timeout=600)

def test_entrypoints_pretrain_then_lora(tmp_path):
    vol = tmp_path/'volume'
    data = tmp_path/'toy.pt'; save_samples(toy_samples(), data)
    r = entry('entrypoint.sh', dict(MODEL_VARIANT='tiny', VOLUME_PATH=str(vol), TRAIN_DATA_PATH=str(data)))
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-3000:])
    best = vol/'checkpoints'/'tiny'/'pretrain'/'model_checkpoint_best.pth'
    assert best.exists() and (vol/'runs'/'tiny'/'pretrain'/'40_train.ipynb').exists()
    ck = load_checkpoint(best)
    assert ck['stage'] == 'pretrain' and ck['config']['_sources']['data_path'] == str(data)
    assert ck['config']['_sources']['data_path_source'] == 'env TRAIN_DATA_PATH'
    # LoRA through the SFT entrypoint, warm-started from the pretrain best through INIT_FROM_CHECKPOINT
    r = entry('sft_entrypoint.sh', dict(MODEL_VARIANT='sft_tiny', VOLUME_PATH=str(vol), TRAIN_DATA_PATH=str(data),
                                        USE_LORA='true', INIT_FROM_CHECKPOINT=str(best)))
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-3000:])
    ck = load_checkpoint(vol/'checkpoints'/'tiny'/'lora'/'model_checkpoint_best.pth')
    assert ck['stage'] == 'lora' and ck['lora_state_dict']
    assert ck['config']['_sources']['init_from'] == str(best) and ck['config']['_sources']['init_from_source'] == 'env INIT_FROM_CHECKPOINT'
