#!/usr/bin/env bash
# Real motion in the loop (issue #15): the Bandai Namco dataset 2 corpus -> pretrain (synthetic + real, source-balanced)
# -> SFT (curated real) -> the real-data benchmark, every step a command whose record lands under runs/.
#
#   scripts/real_pipeline.sh                 # VARIANT=tiny, the whole archive, the configs' epochs
#   VARIANT=small SYNTHETIC=8000 scripts/real_pipeline.sh
#   TOY=1 scripts/real_pipeline.sh           # end-to-end check in a few minutes: 560 takes, 3 training steps, /tmp outputs
#   PRETRAIN_STEPS=1200 SFT_STEPS=500 REPLICATIONS=3 scripts/real_pipeline.sh  # step-bounded training (the cosine schedule spans them)
#   the recorded longer SFT (runs/tiny/sft_real_1600, 7.4 min): papermill nbs/40_train.ipynb runs/tiny/sft_real_1600/40_train.ipynb \
#     -p variant tiny -p stage sft -p config configs/sft_real_tiny.yaml -p data_path data/real/bandai_namco_ds2/train \
#     -p checkpoint_dir runs/tiny/sft_real_1600/checkpoints -p init_from runs/tiny/pretrain_real/checkpoints/model_checkpoint_best.pth \
#     -p max_steps 1600 -p epochs 15
#   PRETRAIN_MINUTES=12 SFT_MINUTES=6 scripts/real_pipeline.sh                   # time-bounded (papermill -p max_minutes; the schedule does not shrink)
#
# Steps (each skipped when its output exists; delete it to redo):
#   1. stickgen convert bandai-namco-2   -> data/real/bandai_namco_ds2/{train,val,test} + stats.json, split.json, PROVENANCE.md
#   2. stickgen generate-data + embed    -> data/real/synthetic_<N>; stickgen merge --balance-sources -> data/real/pretrain_mix
#   3. papermill 40_train (pretrain, configs/real_<variant>.yaml)   -> runs/<variant>/pretrain_real/
#   4. papermill 40_train -p stage sft (configs/sft_real_<variant>.yaml, init from 3) -> runs/<variant>/sft_real/
#   5. stickgen.eval.run_real_bench (pretrain-only and SFT rows beside Real, baselines, procedural) -> runs/real/<variant>/bench_real.{json,md}
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
VARIANT=${VARIANT:-tiny}
ZIP=${ZIP:-../shared/realdata/bandai_namco_ds2/data.zip}
SYNTHETIC=${SYNTHETIC:-2600}          # synthetic base scenes; about the real train windows (2,562) so neither source is cut much
if [ -n "${TOY:-}" ]; then
  OUT=${OUT:-/tmp/stickgen_real_toy}; DATA=$OUT/data; RUNS=$OUT/runs; SYNTHETIC=64
  TRAIN_ARGS=(-p max_steps 3 -p epochs 1 -p window 48 -p render False); REPLICATIONS=2
else
  DATA=data/real; RUNS=runs; TRAIN_ARGS=()
fi
PRE_ARGS=(); SFT_ARGS=()
if [ -n "${PRETRAIN_MINUTES:-}" ]; then PRE_ARGS+=(-p max_minutes "$PRETRAIN_MINUTES"); fi
if [ -n "${PRETRAIN_STEPS:-}" ]; then PRE_ARGS+=(-p max_steps "$PRETRAIN_STEPS"); fi
if [ -n "${SFT_MINUTES:-}" ]; then SFT_ARGS+=(-p max_minutes "$SFT_MINUTES"); fi
if [ -n "${SFT_STEPS:-}" ]; then SFT_ARGS+=(-p max_steps "$SFT_STEPS"); fi
CORPUS=$DATA/bandai_namco_ds2
mkdir -p "$DATA" "$RUNS/$VARIANT"

# 1. the real-data corpus
if [ ! -d "$CORPUS/test" ]; then
  if [ -n "${TOY:-}" ]; then
    $BIN/python - "$ZIP" "$CORPUS" <<'EOF'
import re, sys
from stickgen.realdata import build_real_corpus
build_real_corpus(sys.argv[1], sys.argv[2], paraphrases=2, takes=lambda n: re.search(r'_(00[1-2]|00[6-9])\.bvh$', n) is not None)
EOF
  else
    $BIN/stickgen convert bandai-namco-2 --input "$ZIP" --output "$CORPUS"
  fi
fi

# 2. synthetic corpus + source-balanced mix for pretraining
SYN=$DATA/synthetic_$SYNTHETIC
if [ ! -d "$SYN" ]; then
  $BIN/stickgen generate-data --num-samples "$SYNTHETIC" --output "$SYN-raw" --quiet
  $BIN/stickgen embed --input "$SYN-raw" --output "$SYN" --quiet
  rm -rf "$SYN-raw"
fi
MIX=$DATA/pretrain_mix
if [ ! -d "$MIX" ]; then
  $BIN/stickgen merge --inputs "$SYN" "$CORPUS/train" --output "$MIX" --balance-sources --max-source-fraction 0.5 --compute-stats
fi

# 3. pretrain on the mix
PRE=$RUNS/$VARIANT/pretrain_real
if [ ! -f "$PRE/checkpoints/model_checkpoint_best.pth" ]; then
  mkdir -p "$PRE"
  $BIN/papermill nbs/40_train.ipynb "$PRE/40_train.ipynb" -p variant "$VARIANT" -p config "configs/real_$VARIANT.yaml" \
    -p data_path "$MIX" -p checkpoint_dir "$PRE/checkpoints" "${TRAIN_ARGS[@]}" "${PRE_ARGS[@]}"
fi

# 4. SFT on curated real
SFT=$RUNS/$VARIANT/sft_real
if [ ! -f "$SFT/checkpoints/model_checkpoint_best.pth" ]; then
  mkdir -p "$SFT"
  $BIN/papermill nbs/40_train.ipynb "$SFT/40_train.ipynb" -p variant "$VARIANT" -p stage sft -p config "configs/sft_real_$VARIANT.yaml" \
    -p data_path "$CORPUS/train" -p checkpoint_dir "$SFT/checkpoints" -p init_from "$PRE/checkpoints/model_checkpoint_best.pth" "${TRAIN_ARGS[@]}" "${SFT_ARGS[@]}"
fi

# 5. the real-data benchmark: Real, baselines, procedural engine, the release model (synthetic only), pretrain-only and SFT rows
#    (the recorded table, with the 1,600-step SFT row too, is scripts/real_bench.py)
BENCH=$RUNS/real/$VARIANT
mkdir -p "$BENCH"
$BIN/python - "$CORPUS" "$BENCH" "$PRE" "$SFT" "${REPLICATIONS:-10}" <<'EOF'
import sys
from stickgen.eval import run_real_bench, checkpoint_generator
corpus, bench, pre, sft, reps = sys.argv[1:6]
from stickgen.checkpoints import release_checkpoint
models = {f'{name} ({p})': checkpoint_generator(f'{p}/checkpoints/model_checkpoint_best.pth') for name, p in (('pretrain only', pre), ('after SFT', sft))}
if release_checkpoint() is not None: models = {'release model (synthetic only)': checkpoint_generator(release_checkpoint()), **models}
res = run_real_bench(corpus, models, replications=int(reps), output_dir=bench)
print(res['markdown'])
EOF
