#!/usr/bin/env bash
# `make demo`: the demo scenario end to end on the local store, then the audit.
# Seeds the store, plays scripts/demo/*.txt through the Lex emulator (JSON lines per turn),
# ingests the sample emails if ../shared is there, and checks the decision log: verify and replay
# must both exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m chalicelib.demo_data --reset > /dev/null
"$PY" -m chatbot chat --customer demo-alice --script scripts/demo/alice.txt
"$PY" -m chatbot chat --customer demo-bob --script scripts/demo/bob.txt
"$PY" -m chatbot chat --script scripts/demo/anonymous.txt
if [ -d ../shared/data/emails ]; then
    "$PY" -m chalicelib.email_ingest ../shared/data/emails > /dev/null
fi
"$PY" -m chalicelib.audit verify
"$PY" -m chalicelib.audit replay
