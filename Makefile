# herald: a durable webhook notification service. See README.md.
#
#   make run      install missing build dependencies, build, run heraldd in the foreground
#   make test     install what the tests need, build, run every test (ASan + UBSan build)
#   make          build build/heraldd and build/heraldctl
#   make install  PREFIX=/usr/local DESTDIR= : binaries, config, migrations, unit, man pages
#   make fuzz     FUZZ_SECONDS=600 : run the libFuzzer harnesses (tests/fuzz/)
#   make bench    the performance scenarios; writes bench/results.md
#   make bench-compare REF=<git ref>   that build's heraldd against this tree's, A B A B
#                 (on SQLite and PostgreSQL; COMPARE_BACKEND=sqlite: SQLite only)

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DATADIR    ?= $(PREFIX)/share/herald
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANDIR     ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# The group that may read /etc/herald; the unit gives it to heraldd's dynamic user.
HERALD_GROUP ?= herald

CC ?= cc
# zlib gzips the spans herald exports (src/telemetry).
PKGS       := libmicrohttpd sqlite3 libcjson libcurl inih libcrypto libsystemd libpq zlib
BUILD_DEBS := pkg-config libmicrohttpd-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev \
              libinih-dev libssl-dev libsystemd-dev libpq-dev zlib1g-dev
# The tests run every backend: PostgreSQL's server comes from Debian's package.
# The console's browser test runs Debian's Chromium (with a font to draw its text).
# The clock test and the fault campaign skew a heraldd's clock with Debian's
# libfaketime (faketime).
TEST_DEBS  := $(BUILD_DEBS) libcmocka-dev python3 clang libclang-rt-14-dev postgresql \
              chromium fonts-liberation faketime

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wpointer-arith
BASE_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARNINGS) -g -pthread $(addprefix -I,$(SRC_DIRS)) -Ibuild/gen \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
BASE_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread -lm

RELEASE_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
RELEASE_LDFLAGS := -pie -Wl,-z,relro,-z,now
# The test build carries the fault seam (src/common/fault.h); the release build does not.
ASAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
               -DHERALD_FAULT_SEAM
ASAN_LDFLAGS := -fsanitize=address,undefined

# src/ is a folder per program and subsystem (src/README.md says which, and what
# each may include). The daemon's library is every folder but ctl/, and the
# programs' mains stay out of it. Headers are found by name in every folder (-I
# each, as nginx does), so a file includes "store.h" wherever it lives; object
# files are named by file alone.
SRC_DIRS    := src/common src/core src/config src/store src/store/sqlite src/store/pg src/intake \
               src/cluster src/delivery src/alert src/jobs src/api src/copy src/daemon src/ctl \
               src/telemetry
vpath %.c $(SRC_DIRS)
PROGRAM_SRC := src/daemon/main.c src/ctl/heraldctl.c
CTL_SRC     := $(filter-out $(PROGRAM_SRC),$(wildcard src/ctl/*.c))
LIB_SRC     := $(filter-out $(PROGRAM_SRC) $(CTL_SRC),$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
# One set of migrations per storage backend, each compiled into heraldd.
BACKENDS    := sqlite postgresql
GEN_SRC     := $(patsubst %,build/gen/migrations_%.c,$(BACKENDS)) build/gen/asset_table.c
# What heraldd serves from its binary (src/api/assets.h): URL path, content type, file.
# The console (console/, and the chart library it vendors) is served flat under /ui/.
console_asset = /ui/$(notdir $(1)) $(2) $(1)
CONSOLE_FILES := $(wildcard console/*.html console/*.js console/*.css console/vendor/*.js \
                   console/vendor/*.css console/vendor/*.txt)
CONSOLE_TYPE_.html := text/html;charset=utf-8
CONSOLE_TYPE_.js   := text/javascript;charset=utf-8
CONSOLE_TYPE_.css  := text/css;charset=utf-8
CONSOLE_TYPE_.txt  := text/plain;charset=utf-8
ASSETS      := /v1/openapi.yaml application/yaml docs/openapi.yaml \
               $(foreach f,$(CONSOLE_FILES),$(call console_asset,$(f),$(CONSOLE_TYPE_$(suffix $(f)))))
ASSET_FILES := $(foreach i,$(shell seq 3 3 $(words $(ASSETS))),$(word $(i),$(ASSETS)))
UNIT_TESTS  := $(patsubst tests/unit/%.c,%,$(filter-out tests/unit/test_support.c,$(wildcard tests/unit/test_*.c)))

# Quiet by default; `make V=1` shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

# $(call objects,VARIANT,SOURCES)
objects = $(patsubst %.c,build/$(1)/obj/%.o,$(notdir $(2)))

.SECONDARY:
.PHONY: all deps test-deps run test unit integration campaign openapi install clean asan fuzz fuzz-smoke bench bench-compare bench-smoke
all: build/heraldd build/heraldctl

deps:
	@tools/deps.sh $(BUILD_DEBS)

test-deps:
	@tools/deps.sh $(TEST_DEBS)
	@$(MAKE) --no-print-directory tests/js/node_modules/.package-lock.json

# What the tests run on Node.js, pinned by tests/js/package-lock.json: the
# signature interoperability test's receiver (the official Standard Webhooks
# library), the OpenAPI checks (Redocly CLI, Ajv, yaml), the console's
# browser test (puppeteer-core, driving Debian's Chromium) and the tracing
# tests' OTLP collector (@opentelemetry/otlp-transformer's protobuf definitions).
tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the signature and OpenAPI tests" >&2; exit 1; }
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error

.SECONDEXPANSION:
build/gen/migrations_%.c: $$(wildcard migrations/$$*/*.sql) tools/embed_migrations.sh
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)tools/embed_migrations.sh $@ $* $(sort $(wildcard migrations/$*/*.sql))

build/gen/asset_table.c: $(ASSET_FILES) tools/embed_assets.sh Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)tools/embed_assets.sh $@ $(foreach word,$(ASSETS),'$(word)')

# ---- one set of rules per build variant: release (build/) and asan (build/asan/) ----
define VARIANT_RULES
build/$(1)/obj/%.o: %.c | deps $(GEN_SRC)
	@mkdir -p $$(@D)
	$$(call say,CC,$$@)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) -MMD -MP -c $$< -o $$@

build/$(1)/obj/migrations_%.o: build/gen/migrations_%.c | deps
	@mkdir -p $$(@D)
	$$(call say,CC,$$@)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) -c $$< -o $$@

build/$(1)/obj/asset_table.o: build/gen/asset_table.c | deps
	@mkdir -p $$(@D)
	$$(call say,CC,$$@)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) -c $$< -o $$@

build/$(1)/libherald.a: $(call objects,$(1),$(LIB_SRC) $(GEN_SRC))
	$$(call say,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^

build/$(1)/obj/tests/%.o: tests/unit/%.c | deps
	@mkdir -p $$(@D)
	$$(call say,CC,$$@)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) -MMD -MP -c $$< -o $$@

build/$(1)/tests/%: build/$(1)/obj/tests/%.o build/$(1)/obj/tests/test_support.o build/$(1)/libherald.a
	@mkdir -p $$(@D)
	$$(call say,LINK,$$@)
	$$(Q)$$(CC) $(3) -o $$@ $$^ $$(BASE_LIBS) -lcmocka

-include $(wildcard build/$(1)/obj/*.d build/$(1)/obj/tests/*.d)
endef

$(eval $(call VARIANT_RULES,release,$(RELEASE_CFLAGS),$(RELEASE_LDFLAGS)))
$(eval $(call VARIANT_RULES,asan,$(ASAN_CFLAGS),$(ASAN_LDFLAGS)))

build/heraldd: build/release/obj/main.o build/release/libherald.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(RELEASE_LDFLAGS) -o $@ $^ $(BASE_LIBS)
build/heraldctl: build/release/obj/heraldctl.o $(call objects,release,$(CTL_SRC)) build/release/libherald.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(RELEASE_LDFLAGS) -o $@ $^ $(BASE_LIBS)
build/asan/heraldd: build/asan/obj/main.o build/asan/libherald.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(BASE_LIBS)
build/asan/heraldctl: build/asan/obj/heraldctl.o $(call objects,asan,$(CTL_SRC)) build/asan/libherald.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(BASE_LIBS)

# LD_PRELOAD libraries the integration tests run heraldd with (tests/shim/),
# next to the ASan heraldd. Built without sanitizers: a test preloads the
# binary's libasan before them (see tests/shim/slow_resolver.c).
TEST_SHIMS := build/asan/shim/slow_resolver.so

asan: build/asan/heraldd build/asan/heraldctl $(addprefix build/asan/tests/,$(UNIT_TESTS)) \
      $(TEST_SHIMS)

build/asan/shim/%.so: tests/shim/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARNINGS) -O1 -g -fPIC -shared -o $@ $< -ldl

# ---- fuzzing: libFuzzer harnesses in tests/fuzz/, built with clang ----
FUZZERS            := task_request task_batch task_url manual_request config netguard retry_after \
                      origin_guard
FUZZ_CC            := clang
FUZZ_CFLAGS        := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                      -fno-omit-frame-pointer
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 4

build/fuzz/obj/%.o: %.c | deps $(GEN_SRC)
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/obj/migrations_%.o: build/gen/migrations_%.c | deps
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/obj/asset_table.o: build/gen/asset_table.c | deps
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/libherald.a: $(call objects,fuzz,$(LIB_SRC) $(GEN_SRC))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libherald.a
	$(call say,LINK,$@)
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $^ $(BASE_LIBS)

-include $(wildcard build/fuzz/obj/*.d)

# Runs each harness for $(1) seconds on its checked-in seeds (new finds go to
# build/fuzz/corpus/NAME, outside the repository).
define run_fuzzers
	@for f in $(FUZZERS); do \
	    mkdir -p build/fuzz/corpus/$$f; \
	    echo "== fuzz: $$f ($(1)s)"; \
	    build/fuzz/fuzz_$$f -max_total_time=$(1) -print_final_stats=1 -timeout=10 \
	        -artifact_prefix=build/fuzz/$$f- \
	        build/fuzz/corpus/$$f tests/fuzz/corpus/$$f 2>build/fuzz/$$f.log \
	        || { tail -40 build/fuzz/$$f.log; exit 1; }; \
	    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build/fuzz/$$f.log; \
	done
endef

fuzz: $(addprefix build/fuzz/fuzz_,$(FUZZERS))
	$(call run_fuzzers,$(FUZZ_SECONDS))

fuzz-smoke: $(addprefix build/fuzz/fuzz_,$(FUZZERS))
	$(call run_fuzzers,$(FUZZ_SMOKE_SECONDS))

# ---- benchmarks: bench/ (receiver and load generator in C), make bench ----
BENCH_BIN := build/bench/receiver build/bench/loadgen

build/bench/receiver: bench/receiver.c | deps
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARNINGS) -O2 -g -o $@ $< \
	    $(shell pkg-config --cflags --libs libmicrohttpd) -lm -pthread

build/bench/loadgen: bench/loadgen.c | deps
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARNINGS) -O2 -g -o $@ $< \
	    $(shell pkg-config --cflags --libs libcurl)

# Optimised build, every scenario at full size; prints the table and writes bench/results.md.
# BACKEND=postgresql runs scenarios 1-4 and 6 on SQLite, then 2-4 and 6 on a PostgreSQL
# cluster of the bench's own (Debian's server, installed when missing); with
# INSTANCES=1,2,3 also scenario 9 there: several heraldd sharing one database; with
# STANDBY=sync also scenarios 2-4 again with a synchronous standby on the same machine,
# beside the single server's figures.
BACKEND ?= sqlite
INSTANCES ?=
STANDBY ?=
bench: deps all $(BENCH_BIN)
	@if [ "$(BACKEND)" = postgresql ]; then tools/deps.sh postgresql; fi
	python3 bench/run.py --backend $(BACKEND) $(if $(INSTANCES),--instances $(INSTANCES)) \
	    $(if $(STANDBY),--standby $(STANDBY))

# make bench-compare REF=<git ref>: REF's heraldd (built in a temporary worktree) against
# the working tree's, A B A B (PAIRS pairs), on SQLite and PostgreSQL (COMPARE_BACKEND=
# sqlite: SQLite only), SCENARIOS as run.py --only; each figure's medians, the median
# ratio B / A and its spread; written to build/bench/compare.md.
REF ?=
PAIRS ?= 3
SCENARIOS ?= 3
COMPARE_BACKEND ?= postgresql
bench-compare: deps all $(BENCH_BIN)
	@test -n "$(REF)" || { echo "usage: make bench-compare REF=<git ref> [PAIRS=3] [SCENARIOS=3]"; exit 2; }
	@if [ "$(COMPARE_BACKEND)" = postgresql ]; then tools/deps.sh postgresql; fi
	python3 bench/compare.py --ref $(REF) --pairs $(PAIRS) --only $(SCENARIOS) \
	    --backend $(COMPARE_BACKEND)

# Every scenario, tiny, so the harness keeps working (part of make test): all of them on
# SQLite, and those that also run on PostgreSQL (and scenario 9 with 1 and 2 instances)
# on a cluster of its own, then 2-4 with a synchronous standby.
bench-smoke: all $(BENCH_BIN)
	python3 bench/run.py --smoke --backend postgresql --only 1,2,3,4,5,6,7,8,9,10,11 \
	    --instances 1,2 --standby sync --out build/bench/results-smoke.md
	python3 bench/compare.py --smoke --ref HEAD --ref-heraldd build/heraldd --pairs 1 \
	    --only 3 --backend sqlite --out build/bench/compare-smoke.md

# ---- the two commands ----
# CONFIG=FILE runs heraldd with another configuration (the README's tour).
CONFIG ?= etc/herald.conf
run: deps all
	@mkdir -p var
	build/heraldd -c $(CONFIG)

# Sanitizers report leaks and undefined behaviour as failures.
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1:exitcode=87

test: test-deps
	@$(MAKE) --no-print-directory all asan
	@$(MAKE) --no-print-directory unit integration fuzz-smoke bench-smoke

# The store's tests run once per backend (tests/unit/run.sh starts PostgreSQL); first,
# no header is included across src/'s layers (src/README.md), and no two files call
# each other, directly or round a ring.
unit: asan
	@python3 tools/check_layers.py
	@python3 tools/check_cycles.py $(call objects,asan,$(LIB_SRC) $(PROGRAM_SRC) $(CTL_SRC))
	@tests/unit/run.sh $(UNIT_TESTS)

# Every answer the tests receive is kept in build/contract and checked against
# docs/openapi.yaml afterwards (openapi).
integration: asan all
	@rm -rf build/contract && mkdir -p build/contract/responses
	HERALD_CONTRACT_DIR=$(CURDIR)/build/contract/responses python3 tests/integration/run.py \
	    --heraldd build/asan/heraldd --heraldctl build/asan/heraldctl --release-heraldd build/heraldd
	@$(MAKE) --no-print-directory openapi

# The fault campaign alone, longer than make test's one round of faults, on both
# backends: make campaign SECONDS=600 [SEED=N] (tests/integration/test_campaign.py).
SECONDS ?= 600
campaign: test-deps asan all
	HERALD_CAMPAIGN_SECONDS=$(SECONDS) $(if $(SEED),HERALD_CAMPAIGN_SEED=$(SEED)) \
	    python3 tests/integration/run.py --heraldd build/asan/heraldd \
	    --heraldctl build/asan/heraldctl --release-heraldd build/heraldd -k campaign.CampaignTest

# The OpenAPI description: linted (Redocly, recommended-strict), compared with
# heraldd's route table, and every answer the last integration run received
# validated against it (tests/js/check_openapi.mjs).
openapi: all tests/js/node_modules/.package-lock.json
	@mkdir -p build/contract/responses
	cd tests/js && npx --no-install redocly lint --config redocly.yaml ../../docs/openapi.yaml
	build/heraldd --list-routes > build/contract/routes.txt
	node tests/js/check_openapi.mjs docs/openapi.yaml build/contract/routes.txt \
	    build/contract/responses

# /etc/herald and herald.conf are root:$(HERALD_GROUP), 0750 and 0640: the
# configuration may hold secrets, and the unit's dynamic user reads it through
# that group. The group is made from the sysusers.d file (systemd-sysusers) when
# installing into the running system as root; a package's postinst does the
# same. Where the group does not exist yet, the files stay root's and make says so.
install: all
	install -d $(DESTDIR)$(BINDIR) $(addprefix $(DESTDIR)$(DATADIR)/migrations/,$(BACKENDS)) \
	    $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(COMPLETIONDIR)
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/herald
	install -m 0644 docs/heraldctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/heraldd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0755 build/heraldd build/heraldctl $(DESTDIR)$(BINDIR)/
	install -m 0644 etc/bash-completion/heraldctl $(DESTDIR)$(COMPLETIONDIR)/heraldctl
	for backend in $(BACKENDS); do \
	    install -m 0644 migrations/$$backend/*.sql $(DESTDIR)$(DATADIR)/migrations/$$backend/ || exit 1; \
	done
	install -m 0644 systemd/herald.sysusers $(DESTDIR)$(SYSUSERSDIR)/herald.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/herald/herald.conf || \
	    install -m 0640 etc/herald.conf $(DESTDIR)$(SYSCONFDIR)/herald/herald.conf
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    -e 's|@HERALD_GROUP@|$(HERALD_GROUP)|g' systemd/heraldd.service \
	    > $(DESTDIR)$(UNITDIR)/heraldd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/heraldd.service
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
	    systemd-sysusers $(SYSUSERSDIR)/herald.conf; fi
	@if getent group $(HERALD_GROUP) >/dev/null; then \
	    chgrp $(HERALD_GROUP) $(DESTDIR)$(SYSCONFDIR)/herald $(DESTDIR)$(SYSCONFDIR)/herald/herald.conf; \
	else \
	    echo "install: no group $(HERALD_GROUP) yet: run systemd-sysusers, then" \
	         "chgrp $(HERALD_GROUP) $(SYSCONFDIR)/herald $(SYSCONFDIR)/herald/herald.conf" >&2; \
	fi

clean:
	rm -rf build
