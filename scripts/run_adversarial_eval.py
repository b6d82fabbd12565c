#!/usr/bin/env python
"""Reference-design entry point for the adversarial evaluation; same as `stickgen adversarial-eval`.

    python scripts/run_adversarial_eval.py --checkpoint runs/tiny/.../model_checkpoint_best.pth \
        [--suites adversarial_contradictory adversarial_extreme_actions] [--output_dir eval_results/adversarial]
"""
import sys
from stickgen.cli import run_command, adversarial_eval_cli

if __name__ == '__main__': sys.exit(run_command(adversarial_eval_cli, sys.argv[1:], 'run_adversarial_eval.py'))
