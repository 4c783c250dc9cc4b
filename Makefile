# The index of what a person can do here. A fresh machine needs only `make run` and `make test`.
SWIFT      ?= swift
HOST       ?= 127.0.0.1
PORT       ?= 8080
DATA_DIR   ?= ./data
# Debian packages the build needs (libcurl for the sync engine, SQLite for storage).
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev pkg-config
# PyPI tools the tests use: contract fuzzing, the two client generators that must take the contract as it is, and a
# real SMTP server (aiosmtpd) the notification tests read, and the Standard Webhooks verifier (standardwebhooks)
# (the WebDAV peers are installed by scripts/webdav-servers.sh).
SCHEMATHESIS_VERSION := 4.32.5
OPENAPI_GENERATOR_VERSION := 7.26.0
OPENAPI_PYTHON_CLIENT_VERSION := 0.29.1
AIOSMTPD_VERSION := 1.4.6
STANDARDWEBHOOKS_VERSION := 1.1.0
# Debian packages only the tests use: Java for openapi-generator, tsc for the TypeScript client it makes, PostgreSQL
# (a throwaway server per run: every Storage and API test runs on SQLite and on PostgreSQL), nginx (two instances
# behind deploy/nginx/mdp.conf).
TEST_APT_PACKAGES := openjdk-17-jre-headless node-typescript postgresql nginx openssl systemd chromium libreoffice-calc-nogui
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-deps deps build build-tests build-release-tests smoke fuzz format lint bench clean-data

## Install what is missing, build, and serve the API with demo data on an embedded SQLite file under $(DATA_DIR).
run: deps build
	$(SWIFT) run --skip-build mdp serve --demo --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

## Install what is missing, build with warnings as errors, start the test servers (wsgidav, Apache mod_dav, rclone
## serve webdav, mdp serve, a throwaway PostgreSQL), run every test, stop them (the Storage, API and server tests
## twice: on SQLite, then on PostgreSQL); then a smoke test of the real binary, contract fuzzing (schemathesis, every
## role), the contract through third-party generators (a TypeScript client compiled, a Python client walking the
## programme's story against the live server), two instances over PostgreSQL behind nginx (deploy/nginx), one
## killed under load; deploy/ tried for real (systemd units verified, the nginx site with TLS in front of the smoke
## test), /docs opened in headless Chromium, and the directory widget driven by keyboard there from another origin; the team's exports read back by Python's csv and LibreOffice. The sync engine's tests run built optimised, as it ships (only -O shows some compiler faults: a
## task group's results lost, once); the others in debug.
test: deps test-deps build-tests build-release-tests
	scripts/with-test-servers.sh sh -c '$(SWIFT) test --skip-build --parallel \
		&& MDP_TEST_DATABASE_URL=$$MDP_TEST_POSTGRES_URL $(SWIFT) test --skip-build --parallel \
		&& MDP_TEST_BINARY=$$PWD/$(SYNC_RELEASE)/release/SyncOnce $(SWIFT) test $(RELEASE_TESTS) --skip-build'
	scripts/smoke.sh .build/debug/mdp
	SCHEMATHESIS_VERSION=$(SCHEMATHESIS_VERSION) scripts/contract-fuzz.sh .build/debug/mdp
	scripts/generated-clients.sh .build/debug/mdp
	scripts/instances-test.sh .build/debug/mdp
	scripts/deploy-test.sh .build/debug/mdp
	python3 scripts/docs-browser.py .build/debug/mdp
	python3 scripts/widget-browser.py .build/debug/mdp
	python3 scripts/exports-test.py .build/debug/mdp

test-deps:
	@python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$(SCHEMATHESIS_VERSION)')" 2>/dev/null \
		|| python3 -m pip install -q "schemathesis==$(SCHEMATHESIS_VERSION)"
	@python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('openapi-generator-cli') != '$(OPENAPI_GENERATOR_VERSION)' \
		or m.version('openapi-python-client') != '$(OPENAPI_PYTHON_CLIENT_VERSION)')" 2>/dev/null \
		|| python3 -m pip install -q "openapi-generator-cli==$(OPENAPI_GENERATOR_VERSION)" \
			"openapi-python-client==$(OPENAPI_PYTHON_CLIENT_VERSION)"
	@python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('aiosmtpd') != '$(AIOSMTPD_VERSION)')" 2>/dev/null \
		|| python3 -m pip install -q "aiosmtpd==$(AIOSMTPD_VERSION)"
	@python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('standardwebhooks') != '$(STANDARDWEBHOOKS_VERSION)')" 2>/dev/null \
		|| python3 -m pip install -q "standardwebhooks==$(STANDARDWEBHOOKS_VERSION)"
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## Debian packages, installed only when missing (apt-get update first, as a new machine needs).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build:
	$(SWIFT) build --product mdp

build-tests:
	$(SWIFT) build --build-tests

## The sync engine's tests built optimised: Tests/SyncRelease, a package of their own (the engine and what it needs,
## not the whole server), in their own scratch folder; `-enable-testing` lets them reach internal declarations.
SYNC_RELEASE  := .build-sync-release
RELEASE_TESTS := -c release --package-path Tests/SyncRelease --scratch-path $(SYNC_RELEASE) -Xswiftc -enable-testing
build-release-tests:
	$(SWIFT) build --build-tests $(RELEASE_TESTS)

smoke: build
	scripts/smoke.sh .build/debug/mdp

## Contract fuzzing alone (schemathesis against a live demo server, anonymous and with each role's token).
fuzz: test-deps build
	SCHEMATHESIS_VERSION=$(SCHEMATHESIS_VERSION) scripts/contract-fuzz.sh .build/debug/mdp

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

lint:
	$(SWIFT) format lint --recursive Package.swift Sources Tests

## Benchmarks on a release build; figures go to bench/README.md.
bench: deps
	bench/directory.sh
	bench/missions.sh
	bench/load.sh
	bench/sync.sh
	bench/scale.sh

## Removes the local database and blobs of `make run`.
clean-data:
	rm -rf $(DATA_DIR)
