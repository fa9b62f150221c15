# Dispute Assistant: every set-up step lives here, so a fresh clone needs only `make run` / `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run serve-wsgi replay-events test unit imports seed chat demo bench fuzz package train train-scope evaluate clean bot screenshots browser

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

## Debian's Chromium for the browser tests (Playwright never downloads a browser here). Installed once
## when /usr/bin/chromium is missing; if it cannot be installed the browser tests skip, loudly.
CHROMIUM := /usr/bin/chromium
CHROMIUM_STAMP := $(VENV)/.chromium-installed
$(CHROMIUM_STAMP):
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      || echo "WARNING: apt-get could not install chromium: the browser tests will be SKIPPED"; \
	  else echo "WARNING: not root, cannot apt-get install chromium: the browser tests will be SKIPPED"; fi; \
	fi
	@if [ -x $(CHROMIUM) ]; then mkdir -p $(VENV) && touch $(CHROMIUM_STAMP); fi

browser: $(CHROMIUM_STAMP)

## Seed the embedded SQLite store with the deterministic demo data and serve the local assistant.
run: $(STAMP)
	$(PY) -m chalicelib.demo_data --reset
	@if [ -d ../shared/data/emails ]; then $(PY) -m chalicelib.email_ingest ../shared/data/emails > .data/ingest-demo.log 2>&1 && echo "ingested the sample emails (see .data/ingest-demo.log)"; fi
	@echo "Open http://127.0.0.1:$(PORT)/chat  (one-time codes appear in the page side panel and in .data/otp-outbox.log)"
	@# A fresh demo agent token per run (a supervisor of every queue) unless DA_AGENT_TOKENS is set.
	@TOKEN=$$($(PY) -c 'import secrets; print("demo-" + secrets.token_urlsafe(12))'); \
	  if [ -z "$$DA_AGENT_TOKENS" ]; then export DA_AGENT_TOKENS="{\"$$TOKEN\": {\"agent\": \"demo-agent\", \"role\": \"supervisor\", \"queues\": [\"fraud\", \"disputes\", \"complaints\", \"vulnerable_customers\", \"general\"]}}"; \
	    echo "Agent console: http://127.0.0.1:$(PORT)/console  agent API token: $$TOKEN (Authorization: Bearer $$TOKEN)"; fi; \
	  DA_LOCAL_CHANNEL=1 $(VENV)/bin/chalice local --no-autoreload --host 127.0.0.1 --port $(PORT)

## The same local stack under waitress, a multi-threaded WSGI server with admission control: a full
## server answers 503 + Retry-After instead of letting a client time out (scripts/serve_wsgi.py).
serve-wsgi: $(STAMP)
	$(PY) -m chalicelib.demo_data --reset
	DA_LOCAL_CHANNEL=1 $(PY) scripts/serve_wsgi.py --host 127.0.0.1 --port $(PORT)

seed: $(STAMP)
	$(PY) -m chalicelib.demo_data --reset

## A generated day of card events for the demo customers (two risky payments each: one the customer can
## release after step-up in chat, one that goes to a person) through the stream
## handler, into the same store `make run` serves: holds appear in .data/outbox/ and in the chat.
## DAY=YYYY-MM-DD picks the day (default yesterday, UTC: every payment of it has happened).
DAY ?= $(shell date -u -d yesterday +%F 2>/dev/null || date -u -v-1d +%F)
replay-events: $(STAMP)
	@mkdir -p .data
	$(PY) -m chalicelib.fraud generate --day $(DAY) -o .data/card-events-$(DAY).jsonl
	$(PY) -m chalicelib.fraud replay .data/card-events-$(DAY).jsonl

chat: $(STAMP)
	$(PY) -m chatbot chat

## The demo scenario (scripted chats for Alice, Bob and an anonymous visitor, the sample emails),
## then `audit verify` and `audit replay`, which must both exit 0.
demo: $(STAMP)
	bash scripts/demo.sh

## The layering first (cheap, and a broken layer explains many failures), then the whole suite,
## then the deployment package and its checks (issue 5).
test: $(STAMP) $(CHROMIUM_STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests
	$(MAKE) package
	$(PY) -m pytest -q -p no:cacheprovider tests_package

## The layering alone: app.py → chatbot → intents → nlp → chalicelib → lexv2 (contracts in .importlinter).
imports: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache

unit: $(STAMP) $(CHROMIUM_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests

## Refresh the committed pictures of the web chat (desktop 1280x800, phone 390x844) in docs/screenshots/.
screenshots: $(STAMP) $(CHROMIUM_STAMP)
	DA_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest -q -p no:cacheprovider tests/browser -k screenshots

bot: $(STAMP)
	$(PY) -m chatbot build-bot --out build/lex-bot.json

package: $(STAMP)
	bash scripts/package.sh

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PIP) install -q -r requirements-bench.txt
	@touch $(BENCH_STAMP)

## Benchmarks (not timed tests): prints tables and writes bench/results.json.
bench: $(BENCH_STAMP)
	$(PY) -m bench

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider tests/fuzz tests/security tests/ingest/test_pci_email.py

## Training needs torch + transformers: kept out of the test venv and the Lambda package.
train:
	bash scripts/train.sh

evaluate: $(STAMP)
	$(PY) -m training.evaluate
	$(PY) -m bench conversations
	$(PY) -m training.longtext_eval

## The long-text scope model (nlp/artifacts/scope.npz + scope.json): a few minutes (nested CV), CPU, deterministic.
train-scope: $(STAMP)
	$(PY) -m training.scope

clean:
	rm -rf build .data .pytest_cache
