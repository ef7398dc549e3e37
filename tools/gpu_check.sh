#!/usr/bin/env bash
# The prepared GPU check: measures mmadv on a GPU in a few minutes and
# writes gpu_check.json and gpu_check.md into OUT_DIR (see
# tools/analysis_tools/gpu_check.py). Run from a fresh install:
#   bash tools/gpu_check.sh OUT_DIR
#   bash tools/gpu_check.sh --cpu-smoke OUT_DIR   # every part, tiny, on CPU
# PYTHON names the interpreter (default: python on the PATH); the check runs
# tools/dist_train.sh with the same one.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" tools/analysis_tools/gpu_check.py "$@"
