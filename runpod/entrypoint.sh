#!/usr/bin/env bash
# stickgen RunPod entrypoint: one training stage = one papermill run of nbs/40_train.ipynb.
# The executed notebook (the record of the run) and the checkpoints go to the network volume, so a preempted pod
# resumes where it stopped (RESUME_FROM_CHECKPOINT=auto by default).
#
# Environment (all optional):
#   MODEL_VARIANT           tiny | small | medium | large (default small); 'sft_small' also works (stage sft)
#   STAGE                   pretrain | sft | lora (default pretrain; sft_entrypoint.sh sets it)
#   VOLUME_PATH             the network volume (default /runpod-volume)
#   TRAIN_DATA_PATH         training data (.pt or store dir); default: the config's data under $VOLUME_PATH/data
#   RESUME_FROM_CHECKPOINT  checkpoint / run dir / 'auto' (default auto: newest checkpoint of this stage, if any)
#   INIT_FROM_CHECKPOINT    weights to start from (SFT / LoRA)
#   USE_LORA                true: train the LoRA adapter (stage lora)
#   NPROC                   processes = GPUs for DDP via torchrun (default: number of GPUs, else 1)
#   CHECKPOINT_DIR          default $VOLUME_PATH/checkpoints/$VARIANT/$STAGE
#   EPOCHS, MAX_STEPS, MAX_MINUTES, NUM_SAMPLES, WINDOW, NUM_CLIPS, RENDER, DEVICE, SEED   notebook parameters (see nbs/40_train.ipynb)
set -euo pipefail

REPO_DIR=${REPO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VOLUME_PATH=${VOLUME_PATH:-/runpod-volume}
VARIANT=${MODEL_VARIANT:-small}
STAGE=${STAGE:-pretrain}
if [[ "$VARIANT" == sft_* ]]; then VARIANT=${VARIANT#sft_}; [[ "$STAGE" == pretrain ]] && STAGE=sft; fi
USE_LORA=${USE_LORA:-false}
if [[ "${USE_LORA,,}" =~ ^(1|true|yes)$ ]]; then USE_LORA=true; STAGE=lora; else USE_LORA=false; fi
CHECKPOINT_DIR=${CHECKPOINT_DIR:-$VOLUME_PATH/checkpoints/$VARIANT/$STAGE}
RUN_DIR=${RUN_DIR:-$VOLUME_PATH/runs/$VARIANT/$STAGE}
export RESUME_FROM_CHECKPOINT=${RESUME_FROM_CHECKPOINT:-auto}
[[ -n "${TRAIN_DATA_PATH:-}" ]] && export TRAIN_DATA_PATH
[[ -n "${INIT_FROM_CHECKPOINT:-}" ]] && export INIT_FROM_CHECKPOINT
if [[ -z "${NPROC:-}" ]]; then
  NPROC=1
  if command -v nvidia-smi >/dev/null 2>&1; then NPROC=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true); [[ "$NPROC" -ge 1 ]] || NPROC=1; fi
fi
PYTHON=${PYTHON:-python}
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TRANSFORMERS_OFFLINE=${TRANSFORMERS_OFFLINE:-1} MPLBACKEND=${MPLBACKEND:-Agg}

mkdir -p "$CHECKPOINT_DIR" "$RUN_DIR" "$VOLUME_PATH/data"
# in the container, generated corpora (the repo's data/) live on the volume too
if [[ "${STICKGEN_LINK_DATA:-0}" == 1 && ! -e "$REPO_DIR/data" ]]; then ln -s "$VOLUME_PATH/data" "$REPO_DIR/data"; fi

yaml_or_null() { if [[ -n "${1:-}" ]]; then echo "$1"; else echo null; fi; }
PARAMS=$(cat <<YAML
variant: $VARIANT
stage: $STAGE
checkpoint_dir: $CHECKPOINT_DIR
use_lora: $USE_LORA
nproc: $NPROC
device: ${DEVICE:-auto}
seed: ${SEED:-42}
num_samples: ${NUM_SAMPLES:-0}
quick: false
epochs: $(yaml_or_null "${EPOCHS:-}")
max_steps: $(yaml_or_null "${MAX_STEPS:-}")
max_minutes: $(yaml_or_null "${MAX_MINUTES:-}")
window: $(yaml_or_null "${WINDOW:-}")
num_clips: ${NUM_CLIPS:-2}
render: ${RENDER:-true}
YAML
)
echo "stickgen: $STAGE of $VARIANT on $NPROC process(es); checkpoints -> $CHECKPOINT_DIR; record -> $RUN_DIR/40_train.ipynb"
cd "$REPO_DIR"
exec "$PYTHON" -m papermill nbs/40_train.ipynb "$RUN_DIR/40_train.ipynb" -y "$PARAMS" --cwd "$REPO_DIR" ${PAPERMILL_ARGS:-}
