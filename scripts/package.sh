#!/usr/bin/env bash
# `make package`: the Lambda deployment zip and one CloudFormation (SAM) template in build/.
#
#   build/deployment.zip      slimmed Chalice package (app.py, chalicelib/, vendor/ -> chatbot/,
#                             intents/, nlp/ incl. nlp/artifacts/, dependencies for python3.12)
#   build/template.json       Chalice's SAM template + infra/ + the Lex bot (scripts/merge_template.py)
#   build/lex-bot.json        the bot alone (python -m chatbot build-bot)
#   build/package-report.json sizes, largest packages, timings
#
# Why Python 3.12 here: Chalice resolves wheels for the interpreter it runs under. Under 3.11 it
# silently drops numpy 2.x and onnxruntime (no compatible wheel) and still exits 0.
#
# Network: only when requirements.txt changed since the last run (the packaging venv and a
# wheelhouse of Lambda-compatible wheels live in .venv-pkg/ and .cache/); otherwise offline.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
START=$(date +%s.%N)
BUILD="$ROOT/build"
VENV="$ROOT/.venv-pkg"
CACHE="$ROOT/.cache"
WHEELHOUSE="$CACHE/wheelhouse"
export PIP_CACHE_DIR="$CACHE/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# Chalice reads the region while building the template even though nothing is deployed.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
# Only for building: the smoke test (tests_package) needs moto beside the packaging venv.
# pip is capped because Chalice drives it (chalice 1.34 requires pip<26.3).
PIP_SPEC="pip>=24,<26.3"
PKG_TOOLS=("chalice>=1.31,<2" "moto[dynamodb,s3,sqs,sns,secretsmanager,ssm]>=5.0")

log() { printf '[package] %s\n' "$*" >&2; }
die() { printf '[package] ERROR: %s\n' "$*" >&2; exit 1; }

find_python312() {
    local candidate
    if [[ -n "${PYTHON312:-}" ]]; then
        candidate="$PYTHON312"
    elif command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.12.1 >/dev/null 2>&1; then
        candidate="$(pyenv prefix 3.12.1)/bin/python3.12"
    elif command -v python3.12 >/dev/null 2>&1; then
        candidate="$(command -v python3.12)"
    else
        die "Python 3.12 not found (tried \$PYTHON312, 'pyenv prefix 3.12.1', python3.12 on PATH).
Install it (pyenv install 3.12.1) or set PYTHON312=/path/to/python3.12: the Lambda runtime is
python3.12 and Chalice only packages wheels for the interpreter it runs under."
    fi
    "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
        || die "$candidate is not Python 3.12"
    printf '%s\n' "$candidate"
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- 1. packaging venv (chalice + requirements + moto for the package smoke test) ----------
PY312="$(find_python312)"
VENV_KEY="$(printf '%s\n' "$PIP_SPEC" "${PKG_TOOLS[@]}" | cat - requirements.txt | sha256sum | cut -c1-16)"
VENV_FRESH=false
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.stamp" 2>/dev/null)" != "$VENV_KEY" ]]; then
    log "creating $VENV with $PY312"
    rm -rf "$VENV"
    "$PY312" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q "$PIP_SPEC"
    "$VENV/bin/python" -m pip install -q "${PKG_TOOLS[@]}" -r requirements.txt
    echo "$VENV_KEY" > "$VENV/.stamp"
    VENV_FRESH=true
fi
PY="$VENV/bin/python"

# --- 2. wheelhouse of Lambda-compatible wheels (manylinux <= glibc 2.34, cp312) ------------
WHEEL_KEY="$(hash_of requirements.txt)"
WHEELS_FRESH=false
if [[ "$(cat "$WHEELHOUSE/.stamp" 2>/dev/null)" != "$WHEEL_KEY" ]]; then
    log "downloading wheels for python3.12 / manylinux x86_64 into $WHEELHOUSE"
    rm -rf "$WHEELHOUSE"
    mkdir -p "$WHEELHOUSE"
    platforms=()
    for minor in $(seq 17 34); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
    "$PY" -m pip download -q --only-binary=:all: "${platforms[@]}" --platform manylinux2014_x86_64 \
        --implementation cp --abi cp312 --python-version 3.12 \
        -r requirements.txt -d "$WHEELHOUSE"
    echo "$WHEEL_KEY" > "$WHEELHOUSE/.stamp"
    WHEELS_FRESH=true
fi

# --- 3. chalice package, resolving every wheel from the wheelhouse only --------------------
mkdir -p "$BUILD"
rm -rf "$BUILD/chalice-out" "$BUILD/deployment.zip" "$BUILD/template.json" "$BUILD/package-report.json"
T0=$(date +%s.%N)
log "chalice package --stage prod"
# The agent routes take their Cognito authorizer from this setting at import; merge_template.py
# replaces the placeholder with the stack's AgentUserPool (AGENT_POOL_PLACEHOLDER there).
DA_AGENT_USER_POOL_ARN="arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_AgentPoolPlaceholder" \
PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE" \
    "$VENV/bin/chalice" package --pkg-format cloudformation --stage prod "$BUILD/chalice-out"
T1=$(date +%s.%N)
# Chalice keeps one ~140 MB dependency zip per hash of the app's files: keep the newest only.
{ ls -1t .chalice/deployments/*.zip 2>/dev/null || true; } | tail -n +2 | xargs -r rm -f

# --- 4. the Lex bot (skipped, loudly, until chatbot/bot_builder.py exists) ------------------
BOT_ARGS=()
if [[ -f chatbot/bot_builder.py ]]; then
    "$PY" -m chatbot build-bot --out "$BUILD/lex-bot.json"
    BOT_ARGS=(--bot "$BUILD/lex-bot.json")
else
    rm -f "$BUILD/lex-bot.json"
    log "WARNING: chatbot/bot_builder.py not found: no Lex bot in the template"
fi

# --- 5. slim the zip, check its contents, merge the template -------------------------------
"$PY" scripts/slim_package.py "$BUILD/chalice-out/deployment.zip" "$BUILD/deployment.zip" \
    --report "$BUILD/package-report.json" --source-root "$ROOT"
"$PY" scripts/merge_template.py --chalice "$BUILD/chalice-out/sam.json" \
    --out "$BUILD/template.json" "${BOT_ARGS[@]}"
rm -f "$BUILD/chalice-out/deployment.zip"   # the unslimmed copy: 130 MB nobody deploys

END=$(date +%s.%N)
"$PY" - "$BUILD/package-report.json" "$START" "$T0" "$T1" "$END" "$VENV_FRESH" "$WHEELS_FRESH" <<'EOF'
import json, platform, sys
path, start, t0, t1, end, venv_fresh, wheels_fresh = sys.argv[1:]
with open(path) as fh:
    report = json.load(fh)
report.update({
    "seconds": round(float(end) - float(start), 1),
    "chalice_package_seconds": round(float(t1) - float(t0), 1),
    "python_version": platform.python_version(),
    "cold": venv_fresh == "true" or wheels_fresh == "true",
    "venv_created": venv_fresh == "true",
    "wheels_downloaded": wheels_fresh == "true",
    "lambda_unzipped_limit_bytes": 250 * 1024 * 1024,
})
with open(path, "w") as fh:
    json.dump(report, fh, indent=2, sort_keys=True)
    fh.write("\n")
print(f"[package] {report['unzipped_bytes'] / 1e6:.1f} MB unzipped, {report['zipped_bytes'] / 1e6:.1f} MB "
      f"zipped, {report['seconds']} s ({'cold' if report['cold'] else 'warm'}) -> build/template.json, "
      "build/deployment.zip", file=sys.stderr)
EOF
