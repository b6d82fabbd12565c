#!/usr/bin/env bash
# stickgen RunPod SFT / LoRA entrypoint: warm-start from the pretrain (or SFT) best checkpoint on the volume.
#   MODEL_VARIANT=sft_small INIT_FROM_CHECKPOINT=/runpod-volume/checkpoints/small/pretrain/model_checkpoint_best.pth \
#   USE_LORA=false ./runpod/sft_entrypoint.sh
# Without INIT_FROM_CHECKPOINT: the pretrain best of the variant (SFT), or the SFT best (USE_LORA=true).
# TRAIN_DATA_PATH defaults to the curated SFT split ($VOLUME_PATH/data/curated/sft_data_embedded.pt) when it exists.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VOLUME_PATH=${VOLUME_PATH:-/runpod-volume}
VARIANT=${MODEL_VARIANT:-sft_small}; VARIANT=${VARIANT#sft_}
USE_LORA=${USE_LORA:-false}
if [[ "${USE_LORA,,}" =~ ^(1|true|yes)$ ]]; then STAGE=lora; PREV=sft; else STAGE=sft; PREV=pretrain; fi
if [[ -z "${INIT_FROM_CHECKPOINT:-}" ]]; then
  CAND=$VOLUME_PATH/checkpoints/$VARIANT/$PREV/model_checkpoint_best.pth
  if [[ -f "$CAND" ]]; then export INIT_FROM_CHECKPOINT=$CAND
  else echo "sft_entrypoint: no INIT_FROM_CHECKPOINT and no $CAND: training $STAGE from random weights" >&2; fi
fi
if [[ -z "${TRAIN_DATA_PATH:-}" && -e "$VOLUME_PATH/data/curated/sft_data_embedded.pt" ]]; then
  export TRAIN_DATA_PATH=$VOLUME_PATH/data/curated/sft_data_embedded.pt
fi
export MODEL_VARIANT=$VARIANT STAGE USE_LORA VOLUME_PATH
exec "$HERE/entrypoint.sh"
