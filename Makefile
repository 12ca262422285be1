# faas: build, test and package. `make help` lists the targets.
#
# Outputs (all under out/):
#   out/lib/libfaas.a            the C ABI static library
#   out/static/NAME              each example, static (musl), for FROM-scratch images
#   out/dynamic/NAME             each example, dynamic (glibc <= 2.34), for provided.al2023
#   out/zip/NAME.zip             each dynamic example as a Lambda zip (bootstrap at the root)
#   out/zip-static/NAME.zip      the same with the static build (also runs on provided.al2023)
#   out/std/std-rs, std-rs.zip   examples/std-rs, a handler in a program with std (dynamic)
#   out/arm64/                   `make arm64`: lib/libfaas.a, dynamic/NAME, zip/NAME.zip,
#                                static/NAME, zip-static/NAME.zip and bin/faas-rie for arm64
#                                (Graviton), cross-built; `make image-arm64`: the scratch image
#   out/cargo-lambda/bin/        cargo-lambda 1.9.2 from crates.io (`make cargo-lambda`), whose
#                                `cargo lambda watch` emulator tests/third_party.rs runs faas under
#   out/cargo-fuzz/bin/          cargo-fuzz 0.13.2 from crates.io (`make cargo-fuzz`), for
#                                `make fuzz` and `make fuzz-check` (tests/fuzz)

CARGO    ?= cargo
# Cargo's output stays where the rules below pick it up (target/, and
# tests/official-rs/target), whatever target directory the caller's
# environment sets for its other builds.
unexport CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR CARGO_BUILD_TARGET
CC       ?= cc
MUSL_CC  ?= musl-gcc
OUT      := out
REL      := target/release
VERSION  := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

C_EXAMPLES  := echo-c context-c stream-c
RS_EXAMPLES := echo-rs typed-rs stream-rs
EXAMPLES    := $(C_EXAMPLES) $(RS_EXAMPLES)

# C is compiled strictly; everything is size-optimised and linked without
# unwind tables (nothing unwinds: panic = abort; c-abi/no-eh-frame.ld drops
# the ones the precompiled Rust core carries), build ids or page padding.
# Static binaries skip RELRO (musl applies it only in its dynamic linker,
# and its page alignment costs up to 4 KiB of padding) and pack the data
# segment against the code; dynamic ones keep RELRO: zipped, it costs ~50 B.
CSTRICT  := -std=c99 -Wall -Wextra -Wpedantic -Werror
COPT     := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
LDMIN    := -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -Wl,--hash-style=gnu -Wl,--no-eh-frame-hdr -Wl,-T,c-abi/no-eh-frame.ld -s
LDSTATIC := -static -Wl,-z,norelro -Wl,-z,common-page-size=64 $(LDMIN)
LDDYN    := -no-pie $(LDMIN)

LIB := $(OUT)/lib/libfaas.a
# Every bootstrap then loses its section headers (c-abi/elf-trim.c): the
# kernel and the dynamic loader need only the program headers, and the
# section headers cost 1-2 KiB per binary (~0.5 KiB zipped).
ELF_TRIM := $(OUT)/bin/elf-trim
RUST_SRC := Cargo.toml Cargo.lock $(shell find crates/faas c-abi examples -path examples/std-rs -prune -o -name '*.rs' -print -o -name Cargo.toml -print)
# examples/std-rs is built on its own (see std below): editing it relinks nothing else.
STD_SRC  := Cargo.toml Cargo.lock $(shell find crates/faas examples/std-rs -name '*.rs' -o -name Cargo.toml)

.PHONY: all lib examples zip zip-static std arm64 test-arm64 test test-unit test-c lint size size-detail deps clean help
all: lib examples zip zip-static std rie ## Build the library, every example (static and dynamic), the zips, the std example and faas-rie

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

lib: $(LIB) ## Build out/lib/libfaas.a

# libfaas.a and the Rust examples (each a staticlib with its own main), all
# with the release profile: opt-level z, LTO, panic = abort. The final link
# is done by cc / musl-gcc below. The examples go only into non-PIE
# executables, so they are built as non-PIC code (-C relocation-model=static,
# ~200 B less), for the host triple named explicitly so that the flag reaches
# no build script or proc macro; libfaas.a stays PIC, for any executable.
HOST   := $(shell rustc -vV | sed -n 's/^host: //p')
RS_REL := target/$(HOST)/release
$(REL)/.stamp: $(RUST_SRC)
	$(CARGO) build --release --locked -p faas-c
	RUSTFLAGS='-C relocation-model=static' $(CARGO) build --release --locked --target $(HOST) $(addprefix -p ,$(RS_EXAMPLES))
	@touch $@

$(LIB): $(REL)/.stamp
	@mkdir -p $(@D)
	cp $(REL)/libfaas_c.a $@

examples: $(addprefix $(OUT)/static/,$(EXAMPLES)) $(addprefix $(OUT)/dynamic/,$(EXAMPLES)) ## Build every example

$(ELF_TRIM): c-abi/elf-trim.c
	@mkdir -p $(@D)
	$(CC) $(CSTRICT) -O2 $< -o $@

$(OUT)/static/%-c: examples/%.c include/faas.h $(LIB) c-abi/no-eh-frame.ld $(ELF_TRIM)
	@mkdir -p $(@D)
	$(MUSL_CC) $(CSTRICT) $(COPT) -Iinclude $< $(LIB) $(LDSTATIC) -o $@
	$(ELF_TRIM) $@

$(OUT)/dynamic/%-c: examples/%.c include/faas.h $(LIB) c-abi/no-eh-frame.ld $(ELF_TRIM)
	@mkdir -p $(@D)
	$(CC) $(CSTRICT) $(COPT) -Iinclude $< $(LIB) $(LDDYN) -o $@
	$(ELF_TRIM) $@

$(OUT)/static/%-rs: $(REL)/.stamp $(ELF_TRIM)
	@mkdir -p $(@D)
	$(MUSL_CC) $(RS_REL)/lib$(subst -,_,$*)_rs.a $(LDSTATIC) -o $@
	$(ELF_TRIM) $@

$(OUT)/dynamic/%-rs: $(REL)/.stamp $(ELF_TRIM)
	@mkdir -p $(@D)
	$(CC) $(RS_REL)/lib$(subst -,_,$*)_rs.a $(LDDYN) -o $@
	$(ELF_TRIM) $@

zip: $(addprefix $(OUT)/zip/,$(addsuffix .zip,$(EXAMPLES))) ## One Lambda zip per example (dynamic bootstrap)

# The same with the static (musl) bootstrap, which provided.al2023 runs as
# well: no dynamic loader at start (faster cold start), ~1.4 KB more zipped.
zip-static: $(addprefix $(OUT)/zip-static/,$(addsuffix .zip,$(EXAMPLES))) ## One Lambda zip per example (static bootstrap)

# arm64 (Graviton), cross-built: libfaas.a, every example's dynamic glibc
# bootstrap and its zip, for `--architectures arm64`, and its static (musl)
# bootstrap and zip, for FROM-scratch images on arm64 hosts (Graviton, and
# podman or docker on Apple silicon). Needs the Rust target
# (`rustup target add aarch64-unknown-linux-gnu`: rust-std comes from
# static.rust-lang.org, which is not a registry CI machines are promised, so
# this is not part of `make all`, and `make test` runs it only if the target
# is there, saying so if not), Debian's gcc-aarch64-linux-gnu and, for the
# static builds, musl-dev:arm64 (its aarch64-linux-musl-gcc; `make deps` adds
# the arm64 architecture to dpkg for it). `make
# test-arm64` runs them under qemu-aarch64 (Debian's qemu-user). Lambda's arm64 kernels use 4 KiB pages; aarch64's
# default 64 KiB segment alignment would pad each binary by ~40 KiB.
ARM64     := aarch64-unknown-linux-gnu
ARM64_CC  ?= aarch64-linux-gnu-gcc
ARM64_REL := target/$(ARM64)/release
A64       := $(OUT)/arm64
ARM64_MUSL_CC ?= aarch64-linux-musl-gcc
LDARM64   := $(LDDYN) -Wl,-z,max-page-size=4096
LDARM64_STATIC := $(LDSTATIC) -Wl,-z,max-page-size=4096
$(ARM64_REL)/.stamp: $(RUST_SRC)
	$(CARGO) build --release --locked --target $(ARM64) -p faas-c $(addprefix -p ,$(RS_EXAMPLES))
	@touch $@

$(A64)/lib/libfaas.a: $(ARM64_REL)/.stamp
	@mkdir -p $(@D)
	cp $(ARM64_REL)/libfaas_c.a $@

$(A64)/dynamic/%-c: examples/%.c include/faas.h $(A64)/lib/libfaas.a c-abi/no-eh-frame.ld $(ELF_TRIM)
	@mkdir -p $(@D)
	$(ARM64_CC) $(CSTRICT) $(COPT) -Iinclude $< $(A64)/lib/libfaas.a $(LDARM64) -o $@
	$(ELF_TRIM) $@

$(A64)/dynamic/%-rs: $(ARM64_REL)/.stamp $(ELF_TRIM)
	@mkdir -p $(@D)
	$(ARM64_CC) $(ARM64_REL)/lib$(subst -,_,$*)_rs.a $(LDARM64) -o $@
	$(ELF_TRIM) $@

$(A64)/zip/%.zip: $(A64)/dynamic/%
	$(ZIP_BOOTSTRAP)

# The static ones link the same libfaas.a and staticlibs with musl, as on x86-64.
$(A64)/static/%-c: examples/%.c include/faas.h $(A64)/lib/libfaas.a c-abi/no-eh-frame.ld $(ELF_TRIM)
	@mkdir -p $(@D)
	$(ARM64_MUSL_CC) $(CSTRICT) $(COPT) -Iinclude $< $(A64)/lib/libfaas.a $(LDARM64_STATIC) -o $@
	$(ELF_TRIM) $@

$(A64)/static/%-rs: $(ARM64_REL)/.stamp $(ELF_TRIM)
	@mkdir -p $(@D)
	$(ARM64_MUSL_CC) $(ARM64_REL)/lib$(subst -,_,$*)_rs.a $(LDARM64_STATIC) -o $@
	$(ELF_TRIM) $@

$(A64)/zip-static/%.zip: $(A64)/static/%
	$(ZIP_BOOTSTRAP)

A64_ALL := $(A64)/lib/libfaas.a $(A64)/bin/faas-rie $(foreach d,dynamic static,$(addprefix $(A64)/$(d)/,$(EXAMPLES))) $(foreach d,zip zip-static,$(addprefix $(A64)/$(d)/,$(addsuffix .zip,$(EXAMPLES))))
arm64: $(A64_ALL) ## libfaas.a, bootstraps (dynamic and static), zips and faas-rie for arm64 (Graviton), cross-built
	@for f in $(A64)/static/* $(A64)/zip/*.zip $(A64)/zip-static/*.zip; do printf '%-34s %10s\n' $$f $$(stat -c %s $$f); done

# clippy on what is compiled for arm64 too (c_char is unsigned there).
LINT_ARM64 = $(CARGO) clippy --locked --target $(ARM64) -p faas -p faas-c -p faas-rie -- $(LINT)
test-arm64: arm64 cargo-lambda ## Run the arm64 bootstraps under qemu-aarch64 (make test does too, if it can)
	$(LINT_ARM64)
	$(CARGO) test --release --locked -p faas-tests --test arm64

# The zip holds one file, `bootstrap`, mode 0755, with a fixed timestamp so
# that the same binary always gives the same zip. advzip (Debian package
# advancecomp) then deflates it again with zopfli: still plain deflate, which
# any unzip and Lambda read, ~4% smaller than zip -9, and as reproducible.
ADVZIP ?= advzip
define ZIP_BOOTSTRAP
	@mkdir -p $(@D) $(@D)/$*.d
	cp $< $(@D)/$*.d/bootstrap
	chmod 0755 $(@D)/$*.d/bootstrap
	touch -d '2020-01-01 00:00:00Z' $(@D)/$*.d/bootstrap
	rm -f $@ && cd $(@D)/$*.d && zip -q -X -9 ../$*.zip bootstrap
	$(ADVZIP) -q -z -4 -i 15 $@
endef
$(OUT)/zip/%.zip: $(OUT)/dynamic/%
	$(ZIP_BOOTSTRAP)

$(OUT)/zip-static/%.zip: $(OUT)/static/%
	$(ZIP_BOOTSTRAP)

# examples/std-rs: a handler in a program with std (String, serde_json, a
# panic hook), built by cargo alone as a dynamic glibc binary (std's glibc
# build does not link with musl-gcc), and its zip.
$(OUT)/std/std-rs: $(STD_SRC)
	$(CARGO) build --release --locked -p std-rs
	@mkdir -p $(@D)
	cp target/release/std-rs $@

$(OUT)/std/%.zip: $(OUT)/std/%
	$(ZIP_BOOTSTRAP)

std: $(OUT)/std/std-rs $(OUT)/std/std-rs.zip ## The std example (out/std/std-rs) and its zip

# What the dynamic C echo is made of (the README's figures): its code and
# constants before elf-trim and strip, and an empty `main` linked, trimmed
# and zipped as every bootstrap is (what any program costs in a zip).
SIZE_DIR := $(OUT)/size-detail
size-detail: $(LIB) $(ELF_TRIM) ## The dynamic C echo's code and constants, and the zip of an empty main
	@mkdir -p $(SIZE_DIR)/empty.d
	@$(CC) $(CSTRICT) $(COPT) -Iinclude examples/echo.c $(LIB) $(filter-out -s,$(LDDYN)) -o $(SIZE_DIR)/echo-c
	@size -A $(SIZE_DIR)/echo-c | awk '$$1 == ".text" || $$1 == ".rodata" { print "echo-c (dynamic) " $$1 ": " $$2 " bytes" }'
	@printf 'int main(void) { return 0; }\n' > $(SIZE_DIR)/empty.c
	@$(CC) $(CSTRICT) $(COPT) $(SIZE_DIR)/empty.c $(LDDYN) -o $(SIZE_DIR)/empty.d/bootstrap
	@$(ELF_TRIM) $(SIZE_DIR)/empty.d/bootstrap
	@chmod 0755 $(SIZE_DIR)/empty.d/bootstrap && touch -d '2020-01-01 00:00:00Z' $(SIZE_DIR)/empty.d/bootstrap
	@rm -f $(SIZE_DIR)/empty.zip && cd $(SIZE_DIR)/empty.d && zip -q -X -9 ../empty.zip bootstrap
	@$(ADVZIP) -q -z -4 -i 15 $(SIZE_DIR)/empty.zip
	@echo "an empty main, zipped as a bootstrap: $$(stat -c %s $(SIZE_DIR)/empty.zip) bytes"

size: all ## Print the size of every artefact
	@printf '%-28s %10s\n' artefact bytes
	@for f in $(OUT)/static/* $(OUT)/dynamic/* $(OUT)/zip/*.zip $(OUT)/zip-static/*.zip $(OUT)/std/std-rs $(OUT)/std/std-rs.zip $(RIE_BIN); do printf '%-28s %10s\n' $$f $$(stat -c %s $$f); done

# With the arm64 Rust target, cross compiler and qemu-aarch64 installed
# (`make deps` adds them), the arm64 builds too; without, one loud line says
# they were not tested.
ARM64_READY := $(and $(wildcard $(shell rustc --print sysroot)/lib/rustlib/$(ARM64)/lib),$(shell command -v $(ARM64_CC)),$(shell command -v $(ARM64_MUSL_CC)),$(shell command -v qemu-aarch64))
test: lint all test-unit test-c fuzz-check $(if $(ARM64_READY),arm64) ## Run every test
	$(if $(ARM64_READY),$(LINT_ARM64))
	$(CARGO) test --release --locked -p faas-tests
	$(if $(ARM64_READY),$(CARGO) test --release --locked -p faas-tests --test arm64,@echo "arm64: NOT TESTED: needs the Rust target $(ARM64) (rustup target add $(ARM64)), $(ARM64_CC), $(ARM64_MUSL_CC) and qemu-aarch64 (make deps)")

# Formatting (rustfmt.toml) on the workspace and the official runtime's
# echo, and clippy with warnings as errors on every crate and target. The
# no_std crates that define a panic handler are linted on their own: linted
# with the tests, feature unification would give them serde's std and with it
# a second panic handler. Test code may spell out tuple types.
LINT := -D warnings -A clippy::type_complexity
NO_STD_BINS := faas-c faas-rie $(RS_EXAMPLES)
lint: ## rustfmt --check, clippy -D warnings and rustdoc -D warnings (the core's API docs)
	$(CARGO) fmt --all --check
	RUSTDOCFLAGS='-D warnings' $(CARGO) doc --no-deps --locked -p faas
	$(CARGO) fmt --manifest-path $(OFFICIAL)/Cargo.toml --check
	$(CARGO) fmt --manifest-path tests/rie/rust-sdk/Cargo.toml --check
	$(CARGO) clippy --locked --workspace --all-targets $(addprefix --exclude ,$(NO_STD_BINS)) -- $(LINT)
	$(CARGO) clippy --locked $(addprefix -p ,$(NO_STD_BINS)) -- $(LINT)
	$(CARGO) clippy --locked -p faas-rie --tests -- $(LINT)
	$(CARGO) clippy --locked -p faas-tests --test arm64 -- $(LINT)
	$(CARGO) fmt --manifest-path $(FUZZ_DIR)/Cargo.toml --check
	$(CARGO) clippy --locked --manifest-path $(FUZZ_DIR)/Cargo.toml --all-targets -- $(LINT)

# Coverage-guided fuzzing of every parser that sees network bytes
# (tests/fuzz: libFuzzer through cargo-fuzz, with ASan; stable Rust with
# RUSTC_BOOTSTRAP=1 for -Zsanitizer). cargo-fuzz, pinned, comes from
# crates.io into out/cargo-fuzz. `make fuzz` runs each target FUZZ_SECONDS
# from a corpus that grows (tests/fuzz/corpus, not committed): a campaign.
# `make fuzz-check`, part of `make test`, runs each FUZZ_RUNS inputs from
# the seeds alone (tests/fuzz/target/check), with libFuzzer's -seed=1: a
# bounded smoke run, about 3 minutes with the build. Its inputs differ from
# run to run even so (three runs of addr ended at 672, 674 and 684 edges
# covered). Either stops at the first failure and prints the input (also
# in tests/fuzz/artifacts/, to replay with `cargo fuzz run -a TARGET FILE`).
FUZZ_DIR     := tests/fuzz
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 200000
FUZZ_TARGETS := http_head chunked addr json rie_text
CARGO_FUZZ   := $(OUT)/cargo-fuzz/bin/cargo-fuzz
FUZZ         := cd $(FUZZ_DIR) && RUSTC_BOOTSTRAP=1 CARGO=$(CARGO) $(abspath $(CARGO_FUZZ)) fuzz
FUZZ_OPTS    := -timeout=10 -rss_limit_mb=2048
.PHONY: fuzz fuzz-check cargo-fuzz
cargo-fuzz: $(CARGO_FUZZ) ## cargo-fuzz 0.13.2 (crates.io) in out/cargo-fuzz, for make fuzz and fuzz-check
$(CARGO_FUZZ):
	$(CARGO) install cargo-fuzz --version 0.13.2 --locked --root $(OUT)/cargo-fuzz

fuzz: $(CARGO_FUZZ) ## Fuzz every network parser for FUZZ_SECONDS (60) each, from a growing corpus
	cd $(FUZZ_DIR) && ./seeds.sh
	$(FUZZ) build -a
	for t in $(FUZZ_TARGETS); do \
		( $(FUZZ) run -a $$t -- -max_total_time=$(FUZZ_SECONDS) $(FUZZ_OPTS) ) || exit 1; \
	done

fuzz-check: $(CARGO_FUZZ) ## Every fuzz target for FUZZ_RUNS (200,000) inputs from the seeds: the smoke run in make test
	rm -rf $(FUZZ_DIR)/target/check && cd $(FUZZ_DIR) && ./seeds.sh target/check
	$(FUZZ) build -a
	@for t in $(FUZZ_TARGETS); do \
		log=$(FUZZ_DIR)/target/check/$$t.log; \
		( $(FUZZ) run -a $$t target/check/$$t -- -runs=$(FUZZ_RUNS) -seed=1 $(FUZZ_OPTS) ) > $$log 2>&1 || { cat $$log; echo "fuzz-check: $$t FAILED (whole log above)"; exit 1; }; \
		echo "fuzz-check: $$t: $$(grep -m1 'DONE' $$log | tr -s ' \t' ' ')"; \
	done

test-unit: ## Unit, property and doc tests of the core, faas-rie and the bench's statistics
	$(CARGO) test --locked -p faas -p faas-rie -p faas-bench

test-c: $(LIB) ## C header checks: version agreement, exported symbols, ASan/UBSan
	tests/c/run.sh

deps: ## Install the system packages everything here uses (Debian; as root, or with sudo)
	bash .ci/run deps

clean: ## Remove build output
	rm -rf $(OUT) target

# --- install and packaging (issue 5) ---
# `make install` / `make uninstall` honour PREFIX (default /usr/local) and
# DESTDIR, and the usual directory variables (LIBDIR=/usr/lib64 on Fedora).
# The distributors' recipes (rpm/faas.spec, PKGBUILD, Formula/faas.rb) all
# install through these two targets, so the file list lives here only.
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR      ?= $(PREFIX)/share
DOCDIR       ?= $(DATADIR)/doc/faas
LICENSEDIR   ?= $(DATADIR)/licenses/faas
INSTALL      ?= install

REPOSITORY := $(shell sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
RIE        := $(OUT)/bin/faas-rie
DOCS       := README.md
LICENSES   := LICENSE-MIT LICENSE-APACHE c-abi/THIRD-PARTY-NOTICES
C_SOURCES  := $(patsubst %-c,examples/%.c,$(C_EXAMPLES))

.PHONY: install uninstall dist version-stamp package-test notices
# A directory under PREFIX as faas.pc gives it, relative to ${prefix}, so that
# pkg-config --define-prefix (MSYS2, relocated trees) can move it.
under_prefix = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
# The licenses of the crates compiled into libfaas.a and faas-rie, which
# `make install` installs beside faas's own; rerun after a Cargo.lock change
# (tests/packaging.rs fails until the committed file matches).
notices: ## Regenerate c-abi/THIRD-PARTY-NOTICES (the bundled crates' licenses) from Cargo.lock
	/usr/bin/python3 c-abi/notices.py > c-abi/THIRD-PARTY-NOTICES.part && mv c-abi/THIRD-PARTY-NOTICES.part c-abi/THIRD-PARTY-NOTICES

install: $(LIB) $(RIE) include/faas.h c-abi/faas.pc.in $(DOCS) $(LICENSES) $(C_SOURCES) ## Install into $(DESTDIR)$(PREFIX): lib, header, faas.pc, faas-rie, docs
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(LICENSEDIR)
	$(INSTALL) -m 0755 $(RIE) $(DESTDIR)$(BINDIR)/faas-rie
	$(INSTALL) -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libfaas.a
	$(INSTALL) -m 0644 include/faas.h $(DESTDIR)$(INCLUDEDIR)/faas.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call under_prefix,$(LIBDIR))|g' -e 's|@INCLUDEDIR@|$(call under_prefix,$(INCLUDEDIR))|g' \
	  -e 's|@VERSION@|$(VERSION)|g' -e 's|@URL@|$(REPOSITORY)|g' c-abi/faas.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/faas.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/faas.pc
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(C_SOURCES) $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 $(LICENSES) $(DESTDIR)$(LICENSEDIR)/

# Removes the files above and the faas-only directories; shared directories
# (bin, lib, include, lib/pkgconfig) stay. Give the same PREFIX and DESTDIR.
uninstall: ## Remove exactly what `make install` installed (same PREFIX, DESTDIR)
	rm -f $(DESTDIR)$(BINDIR)/faas-rie $(DESTDIR)$(LIBDIR)/libfaas.a $(DESTDIR)$(INCLUDEDIR)/faas.h \
	  $(DESTDIR)$(PKGCONFIGDIR)/faas.pc $(addprefix $(DESTDIR)$(DOCDIR)/,$(DOCS)) \
	  $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(C_SOURCES))) $(addprefix $(DESTDIR)$(LICENSEDIR)/,$(notdir $(LICENSES)))
	for d in $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LICENSEDIR); do \
	  if [ -d $$d ]; then rmdir $$d 2>/dev/null || echo "kept $$d: not empty"; fi; done

# The source tarball: the tracked files plus the crates in vendor/ and a
# .cargo/config.toml that builds from them with the network off, as
# rpmbuild, makepkg and Homebrew's sandbox need. It is reproducible (sorted,
# fixed owner, gzip -n, and every mtime that of the last commit to touch
# anything but the two recipes), so its sha256 is stable; PKGBUILD and
# Formula/faas.rb record that sha256 and so cannot be inside it (the recipes
# live in AUR / MINGW-packages / a tap anyway). So at a release tag, whose
# last commit stamps the sha256, `make dist` gives the tarball it names.
# RECIPES=DIR stamps copies of the two recipes in DIR instead of the tracked
# files (the tests do, so that `make test` leaves the tree as it found it).
RECIPES  ?= .
DIST     := dist/faas-$(VERSION)
DIST_TAR := $(DIST).tar.gz
dist: ## dist/faas-VERSION.tar.gz (vendored, builds offline); stamps its sha256 into PKGBUILD and Formula (or copies in RECIPES=DIR)
	@tests/packaging/check-versions.sh
	rm -rf $(DIST) $(DIST_TAR)
	mkdir -p $(DIST)/.cargo
	git ls-files -z --cached | grep -zv -e '^PKGBUILD$$' -e '^Formula/' \
	  | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C $(DIST)
	$(CARGO) vendor --locked --quiet --manifest-path $(DIST)/Cargo.toml $(DIST)/vendor > /dev/null
	printf '%s\n' '# Written by `make dist`: build with the crates in vendor/, never the network.' \
	  '[source.crates-io]' 'replace-with = "vendored-sources"' '' \
	  '[source.vendored-sources]' 'directory = "vendor"' '' '[net]' 'offline = true' > $(DIST)/.cargo/config.toml
	tar -C dist --sort=name --format=gnu --owner=0 --group=0 --numeric-owner --mode=a+rX,u+w,go-w \
	  --mtime=@$$(git log -1 --format=%ct -- . ':!PKGBUILD' ':!Formula') -cf - faas-$(VERSION) | gzip -9n > $(DIST_TAR)
	rm -rf $(DIST)
	if [ "$(RECIPES)" != . ]; then mkdir -p $(RECIPES)/Formula && cp PKGBUILD $(RECIPES)/ && cp Formula/faas.rb $(RECIPES)/Formula/; fi
	sha=$$(sha256sum $(DIST_TAR) | cut -d' ' -f1) && \
	  sed -i "s/^sha256sums=.*/sha256sums=('$$sha')/" $(RECIPES)/PKGBUILD && \
	  sed -i "s/^  sha256 \".*\"/  sha256 \"$$sha\"/" $(RECIPES)/Formula/faas.rb && \
	  echo "$(DIST_TAR) sha256 $$sha (written into $(RECIPES)/PKGBUILD and $(RECIPES)/Formula/faas.rb)"

# A new version: set it in Cargo.toml's [workspace.package], then run this.
version-stamp: ## Write Cargo.toml's version into rpm/faas.spec, PKGBUILD, Formula/faas.rb and faas.h
	sed -i 's/^Version:\( *\).*/Version:\1$(VERSION)/' rpm/faas.spec
	@# A new version starts at release 1, with a %changelog entry to edit.
	if ! grep -q '^\* .* - $(VERSION)-' rpm/faas.spec; then \
	  sed -i -e 's/^Release:\( *\).*/Release:\11%{?dist}/' \
	    -e "/^%changelog/a * $$(LC_ALL=C date -u '+%a %b %d %Y') faas contributors <faas@users.noreply.github.com> - $(VERSION)-1\n- Update to $(VERSION)\n" rpm/faas.spec; \
	fi
	sed -i 's/^pkgver=.*/pkgver=$(VERSION)/' PKGBUILD
	sed -i 's|^  url ".*"|  url "$(REPOSITORY)/releases/download/v$(VERSION)/faas-$(VERSION).tar.gz"|' Formula/faas.rb
	v=$(VERSION); ma=$${v%%.*}; r=$${v#*.}; mi=$${r%%.*}; pa=$${r#*.}; \
	  sed -i -e "s/^#define FAAS_VERSION_MAJOR .*/#define FAAS_VERSION_MAJOR $$ma/" \
	    -e "s/^#define FAAS_VERSION_MINOR .*/#define FAAS_VERSION_MINOR $$mi/" \
	    -e "s/^#define FAAS_VERSION_PATCH .*/#define FAAS_VERSION_PATCH $$pa/" \
	    -e "s/^#define FAAS_VERSION \".*\"/#define FAAS_VERSION \"$$v\"/" \
	    -e "s/^#define FAAS_VERSION_NUMBER .*/#define FAAS_VERSION_NUMBER $$((ma * 10000 + mi * 100 + pa))/" include/faas.h
	tests/packaging/check-versions.sh

package-test: all ## The packaging tests alone: install, dist, rpm, pacman, Homebrew formula, zips
	$(CARGO) test --release --locked -p faas-tests --test packaging -- --nocapture

# --- benchmarks (issue 4) ---
# `make bench` builds every contender and runs crates/faas-bench, which plays
# the Runtime API on loopback and measures faas against the official Rust
# runtime (tests/official-rs), the official C++ runtime (aws-lambda-cpp), a
# bare C loop and the loopback floor. It writes
# out/bench/report.md, out/bench/results.json and SVG charts.
BENCH      := $(OUT)/bench
BENCH_BIN  := $(BENCH)/bin
OFFICIAL   := tests/official-rs
OFF_TARGET := $(OFFICIAL)/target
OFF_SRC    := $(OFFICIAL)/Cargo.toml $(OFFICIAL)/Cargo.lock $(wildcard $(OFFICIAL)/src/*.rs $(OFFICIAL)/src/bin/*.rs)
# The driver is timed code too: build it at opt-level 3 whatever the release
# profile says (the product's profile stays size-first).
BENCH_CARGO := $(CARGO) build --release --locked -p faas-bench --config 'profile.release.package.faas-bench.opt-level=3'
BENCH_CONTENDERS := $(BENCH_BIN)/floor $(BENCH_BIN)/bare-c $(BENCH_BIN)/official-o3 $(BENCH_BIN)/official-z \
                    $(BENCH_BIN)/official-o3-static $(BENCH_BIN)/official-cpp $(BENCH)/zip/bare-c.zip \
                    $(BENCH)/zip/official-o3.zip $(BENCH)/zip/official-z.zip $(BENCH)/zip/official-cpp.zip

.PHONY: bench bench-quick bench-build bench-driver
bench: bench-build ## Measure faas against the alternatives (about 10 min on a fresh clone, builds included): out/bench/report.md
	FAAS_BENCH_COMMAND='make bench' $(BENCH_BIN)/faas-bench --root . --out $(BENCH)

bench-quick: bench-build ## The same, small (under a minute): checks the harness, not the figures
	FAAS_BENCH_COMMAND='make bench-quick' $(BENCH_BIN)/faas-bench --quick --root . --out $(BENCH)

bench-build: all $(OUT)/bin/faas-rie bench-driver $(BENCH_CONTENDERS) $(BENCH_BIN)/startup ## Build the driver, every contender and faas-rie (for the image through it)

# Always asks cargo (it knows when nothing changed).
bench-driver: ## Build the bench driver (faas-bench) into out/bench/bin
	$(BENCH_CARGO)
	@mkdir -p $(BENCH_BIN)
	cp $(REL)/faas-bench $(BENCH_BIN)/faas-bench

# `make test` runs the quick bench once (tests/bench_quick.rs) on these.
test: bench-build

# Single-steps a program from exec to its first connect(2), counting its
# instructions and CPUIDs; times one CPUID (the bench's start-up table).
$(BENCH_BIN)/startup: crates/faas-bench/tools/startup.c
	@mkdir -p $(@D)
	$(CC) $(CSTRICT) -O2 $< -o $@

# The cold start in instructions, without the rest of the bench: faas's
# static and dynamic echoes and the floor (a C program that only connects)
# built static with musl, static with glibc and dynamic with glibc, each
# single-stepped from exec to its first connect (about a minute).
COLD_DIR := $(OUT)/cold-detail
COLD_ENV := env -i AWS_LAMBDA_RUNTIME_API=127.0.0.1:9 AWS_LAMBDA_FUNCTION_NAME=cold-detail
.PHONY: cold-detail
cold-detail: $(BENCH_BIN)/startup $(BENCH_BIN)/floor examples ## Instructions and CPUIDs from exec to the first connect: faas's echoes and C programs that only connect
	@mkdir -p $(COLD_DIR)
	@$(CC) $(CSTRICT) $(COPT) crates/faas-bench/contenders/floor.c -static -s -o $(COLD_DIR)/floor-glibc-static
	@$(CC) $(CSTRICT) $(COPT) crates/faas-bench/contenders/floor.c -s -o $(COLD_DIR)/floor-glibc-dynamic
	@echo "one CPUID instruction here: $$($(BENCH_BIN)/startup --cpuid-cost) us"
	@printf '%-36s %12s %6s\n' 'exec to the first connect' instructions CPUID
	@for b in $(OUT)/static/echo-rs $(OUT)/static/echo-c $(OUT)/dynamic/echo-rs $(OUT)/dynamic/echo-c \
	  $(BENCH_BIN)/floor $(COLD_DIR)/floor-glibc-static $(COLD_DIR)/floor-glibc-dynamic; do \
	  r=$$($(COLD_ENV) $(BENCH_BIN)/startup $$b) || exit 1; set -- $$r; printf '%-36s %12s %6s\n' $$b $$1 $$2; done

$(BENCH_BIN)/floor: crates/faas-bench/contenders/floor.c
	@mkdir -p $(@D)
	$(MUSL_CC) $(CSTRICT) $(COPT) $< $(LDSTATIC) -o $@

$(BENCH_BIN)/bare-c: crates/faas-bench/contenders/bare.c
	@mkdir -p $(@D)
	$(MUSL_CC) $(CSTRICT) $(COPT) $< $(LDSTATIC) -o $@

# The official runtime with its best release settings: opt-level 3 and "z"
# (dynamic, glibc), and opt-level 3 as a static glibc binary for the
# FROM-scratch image. Its own workspace and lock file.
$(BENCH_BIN)/official-o3: $(OFF_SRC)
	@mkdir -p $(@D)
	$(CARGO) build --release --locked --manifest-path $(OFFICIAL)/Cargo.toml
	cp $(OFF_TARGET)/release/official-echo $@

$(BENCH_BIN)/official-z: $(OFF_SRC)
	@mkdir -p $(@D)
	$(CARGO) build --profile release-z --locked --manifest-path $(OFFICIAL)/Cargo.toml
	cp $(OFF_TARGET)/release-z/official-echo $@

$(BENCH_BIN)/official-o3-static: $(OFF_SRC)
	@mkdir -p $(@D)
	RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build --release --locked --manifest-path $(OFFICIAL)/Cargo.toml \
		--target x86_64-unknown-linux-gnu
	cp $(OFF_TARGET)/x86_64-unknown-linux-gnu/release/official-echo $@

# The official C++ runtime, aws-lambda-cpp, as AWS's own Python runtime
# interface client ships it: the awslambdaric 4.2.2 sdist from PyPI (pinned
# by its sha256) carries aws-lambda-cpp 0.2.6 (AWS's patches applied) and
# curl 7.83.1, built as its scripts/preinstall.sh builds them (curl static,
# without TLS or zlib; here also without the optional libraries configure
# would pick up from the machine), with CMake's Release settings and LTO.
# The echo links both statically; libstdc++ and glibc stay dynamic.
CPP_DIR    := $(BENCH)/cpp
CPP_SDIST  := $(CPP_DIR)/awslambdaric-4.2.2.tar.gz
CPP_URL    := https://files.pythonhosted.org/packages/4f/c7/811b8692112f0b63b06f24f853d1f702b9e484129892a311c1ec9dbf27d2/awslambdaric-4.2.2.tar.gz
CPP_SHA256 := 439db0e0cc1887682ccfb379be41a4f1d71a8e3e0774c3bba50833ed81411b0e
CPP_PREFIX := $(abspath $(CPP_DIR))/prefix
CURL_OPTS  := --disable-shared --without-ssl --with-pic --without-zlib --without-brotli --without-zstd \
              --without-libpsl --without-libidn2 --without-nghttp2 --without-libssh2 --without-librtmp \
              --disable-ldap --disable-ldaps

$(CPP_SDIST):
	@mkdir -p $(@D)
	curl -fsSL -o $@.part $(CPP_URL)
	echo '$(CPP_SHA256)  $@.part' | sha256sum -c --quiet
	mv $@.part $@

$(CPP_DIR)/.built: $(CPP_SDIST)
	rm -rf $(CPP_DIR)/src $(CPP_DIR)/build $(CPP_PREFIX) && mkdir -p $(CPP_DIR)/src
	tar -xzf $< -C $(CPP_DIR)/src --strip-components=2 \
		awslambdaric-4.2.2/deps/curl-7.83.1.tar.gz awslambdaric-4.2.2/deps/aws-lambda-cpp-0.2.6.tar.gz
	cd $(CPP_DIR)/src && tar -xzf curl-7.83.1.tar.gz && tar -xzf aws-lambda-cpp-0.2.6.tar.gz
	cd $(CPP_DIR)/src/curl-7.83.1 && ./configure --prefix=$(CPP_PREFIX) $(CURL_OPTS) >configure.log 2>&1 \
		&& $(MAKE) -s >make.log 2>&1 && $(MAKE) -s install >/dev/null
	cmake -S $(CPP_DIR)/src/aws-lambda-cpp-0.2.6 -B $(CPP_DIR)/build -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
		-DENABLE_LTO=ON -DCMAKE_PREFIX_PATH=$(CPP_PREFIX) -DCMAKE_INSTALL_PREFIX=$(CPP_PREFIX) >/dev/null
	cmake --build $(CPP_DIR)/build >/dev/null && cmake --install $(CPP_DIR)/build >/dev/null
	@touch $@

$(BENCH_BIN)/official-cpp: crates/faas-bench/contenders/official-cpp.cpp $(CPP_DIR)/.built
	@mkdir -p $(@D)
	g++ -std=c++11 -O3 -flto -I$(CPP_PREFIX)/include $< $(CPP_PREFIX)/lib/libaws-lambda-runtime.a \
		$(CPP_PREFIX)/lib/libcurl.a -lpthread -s -o $@

# Zipped by aws-lambda-cpp's own packager, as its README deploys a function:
# the binary, the shared libraries it needs but glibc's (-d: the target's
# glibc is used) and a `bootstrap` script that starts it.
$(BENCH)/zip/official-cpp.zip: $(BENCH_BIN)/official-cpp
	rm -rf $(BENCH)/zip/official-cpp.d && mkdir -p $(BENCH)/zip/official-cpp.d
	cp $< $(BENCH)/zip/official-cpp.d/official-cpp
	cd $(BENCH)/zip/official-cpp.d && bash $(abspath $(CPP_DIR))/src/aws-lambda-cpp-0.2.6/packaging/packager -d official-cpp >/dev/null
	mv $(BENCH)/zip/official-cpp.d/official-cpp.zip $@

# Lambda zips of the bench-only contenders, made as `zip` above makes faas's.
$(BENCH)/zip/%.zip: $(BENCH_BIN)/%
	$(ZIP_BOOTSTRAP)

# --- emulator and containers (issue 3) ---
# faas-rie is a staticlib with its own entry point, linked statically (and
# without any libc): out/bin/faas-rie. `make run` serves an example on
# 127.0.0.1:9000; `make image` builds the container images with podman or
# docker (binaries built here, copied in: no builder stage).
RIE_BIN     := $(OUT)/bin/faas-rie
RIE_SRC     := Cargo.toml Cargo.lock crates/faas-rie/src/help.txt $(shell find crates/faas crates/faas-rie -name '*.rs' -o -name Cargo.toml)
RUN_EXAMPLE ?= echo-rs
RUN_PORT    ?= 9000
IMAGE_ECHO  ?= echo-rs
IMAGE       ?= faas-echo
UBI_BASE    ?= registry.access.redhat.com/ubi9/ubi-micro
ENGINE      ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
# podman here: runc (crun fails on hybrid cgroups) and explicit ulimits.
# podman can leave out the build history and its own version label: ~500 B
# of image metadata; and without --layers it stores no intermediate image
# per instruction (each an unnamed leftover; 142 B less metadata, too). No
# cache: a cached image may carry the history.
ENGINE_BUILD := $(ENGINE) build --no-cache $(if $(filter podman,$(ENGINE)),--omit-history --identity-label=false --layers=false)
# The scratch images are reproducible with podman: the same binaries give
# the same image, byte for byte and id for id. Their creation time (and
# their files' times) is SOURCE_DATE_EPOCH, or the last commit's time, or
# (from a tarball) Cargo.toml's; never the build's. And they carry no PATH
# (nothing in them looks one up; podman and docker give a container a
# default PATH anyway): 86 B less.
IMAGE_EPOCH  ?= $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),$(shell stat -c %Y Cargo.toml))
SCRATCH_BUILD := $(ENGINE_BUILD) $(if $(filter podman,$(ENGINE)),--unsetenv PATH --timestamp $(IMAGE_EPOCH))
# What podman needs on the machines this is built on (runc: crun fails on
# their cgroup layout; explicit limits); `PODMAN_RUN_FLAGS=` for none.
PODMAN_RUN_FLAGS ?= --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
ENGINE_RUN  := $(if $(filter podman,$(ENGINE)),podman run $(PODMAN_RUN_FLAGS),docker run)
RIC_VENV    := $(OUT)/ric-venv
INVOKE_HELP = @printf '%s\n' \
	'Call it from another terminal (Ctrl-C here stops it):' \
	'  printf '"'"'{"hello":"world"}'"'"' > event.json' \
	'  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 aws lambda invoke \' \
	'    --endpoint-url http://127.0.0.1:$(RUN_PORT) --cli-read-timeout 0 \' \
	'    --function-name function --payload fileb://event.json --log-type Tail response.json' \
	'  cat response.json' \
	'  curl -d '"'"'{"hello":"world"}'"'"' http://127.0.0.1:$(RUN_PORT)/2015-03-31/functions/function/invocations'

.PHONY: rie run run-container image image-arm64 ric-venv node-ric rie-figures
rie: $(RIE_BIN) ## Build out/bin/faas-rie, the local emulator (static)

# It has its own _start, memcpy and friends, and makes raw system calls
# (crates/faas-rie/src/sys.rs): linked with no C library, by any C compiler
# (MUSL_CC=cc works: the binary is static all the same). Built for the host
# triple named explicitly, so its RUSTFLAGS (non-PIC code: 850 B less, as it
# is only ever linked statically) reach no build script, proc macro or other
# crate's build.
RIE_TARGET  := $(shell rustc -vV | sed -n 's/^host: //p')
$(RIE_BIN): $(RIE_SRC) $(wildcard c-abi/no-eh-frame.ld) crates/faas-rie/no-comment.ld $(ELF_TRIM)
	RUSTFLAGS='-C relocation-model=static' $(CARGO) build --release --locked -p faas-rie --target $(RIE_TARGET)
	@mkdir -p $(@D)
	$(MUSL_CC) -nostdlib -Wl,-u,_start -Wl,-T,crates/faas-rie/no-comment.ld target/$(RIE_TARGET)/release/libfaas_rie.a $(LDSTATIC) -o $@
	$(ELF_TRIM) $@

# And for arm64 (`make arm64`; see there): the same, cross-built, for arm64
# hosts. PIC code here (no RUSTFLAGS), so that this build and the arm64
# libfaas.a's share their compiled dependencies.
$(A64)/bin/faas-rie: $(RIE_SRC) $(wildcard c-abi/no-eh-frame.ld) crates/faas-rie/no-comment.ld $(ELF_TRIM)
	$(CARGO) build --release --locked -p faas-rie --target $(ARM64)
	@mkdir -p $(@D)
	$(ARM64_CC) -nostdlib -Wl,-u,_start -Wl,-T,crates/faas-rie/no-comment.ld $(ARM64_REL)/libfaas_rie.a $(LDSTATIC) -Wl,-z,max-page-size=4096 -o $@
	$(ELF_TRIM) $@

# The Runtime API (faas-rie to the bootstrap) takes any free port, so that
# several `make run`s (RUN_PORT=...) can serve side by side.
run: $(RIE_BIN) $(OUT)/static/$(RUN_EXAMPLE) ## Serve RUN_EXAMPLE (echo-rs) on 127.0.0.1:RUN_PORT (9000) and print how to call it
	$(INVOKE_HELP)
	$(RIE_BIN) --listen 127.0.0.1:$(RUN_PORT) --runtime-api 127.0.0.1:0 -- $(OUT)/static/$(RUN_EXAMPLE)

run-container: image ## The same in the FROM-scratch container
	$(INVOKE_HELP)
	$(ENGINE_RUN) --rm -p 127.0.0.1:$(RUN_PORT):8080 localhost/$(IMAGE):scratch

# The build context holds just the two binaries, laid out as in the scratch
# image: /faas-rie and /bootstrap (no directories: each tar entry costs).
$(OUT)/image/faas-rie: $(RIE_BIN)
	@mkdir -p $(@D)
	cp $< $@
$(OUT)/image/bootstrap: $(OUT)/static/$(IMAGE_ECHO)
	@mkdir -p $(@D)
	cp $< $@

# Each build first untags the image it replaces (and so removes it, unless a
# container uses it), so rebuilds leave no unnamed images behind.
image: $(OUT)/image/faas-rie $(OUT)/image/bootstrap ## Container images: faas-echo:scratch and, if its base is here, faas-echo:ubi9-micro
	rm -rf $(OUT)/image/var # the layout before the bootstrap moved to /
	@$(ENGINE) rmi localhost/$(IMAGE):scratch >/dev/null 2>&1 || true
	$(SCRATCH_BUILD) -t localhost/$(IMAGE):scratch -f containers/Containerfile $(OUT)/image
	@# No pull from here: the UBI image is built when its base is present locally.
	if $(ENGINE) image inspect $(UBI_BASE) >/dev/null 2>&1; then \
	  $(ENGINE) rmi localhost/$(IMAGE):ubi9-micro >/dev/null 2>&1 || true; \
	  $(ENGINE_BUILD) --build-arg BASE=$(UBI_BASE) -t localhost/$(IMAGE):ubi9-micro -f containers/Containerfile.ubi9-micro $(OUT)/image; \
	else echo 'make image: $(UBI_BASE) is not here: `$(ENGINE) pull` it, or set UBI_BASE=<a local image>, for $(IMAGE):ubi9-micro'; fi

# The same scratch image for arm64 hosts, from the arm64 builds: the
# Containerfile has no RUN, so building it runs nothing of arm64's; running it
# needs an arm64 host (or qemu registered with binfmt_misc).
$(A64)/image/faas-rie: $(A64)/bin/faas-rie
	@mkdir -p $(@D)
	cp $< $@
$(A64)/image/bootstrap: $(A64)/static/$(IMAGE_ECHO)
	@mkdir -p $(@D)
	cp $< $@

image-arm64: $(A64)/image/faas-rie $(A64)/image/bootstrap ## The scratch image for arm64: faas-echo:scratch-arm64
	@$(ENGINE) rmi localhost/$(IMAGE):scratch-arm64 >/dev/null 2>&1 || true
	$(SCRATCH_BUILD) $(if $(filter podman,$(ENGINE)),--arch arm64,--platform linux/arm64) -t localhost/$(IMAGE):scratch-arm64 -f containers/Containerfile $(A64)/image

# The official Python runtime interface client, for tests/third_party.rs.
ric-venv: $(RIC_VENV)/.stamp ## A venv with awslambdaric (from PyPI) for the third-party tests
$(RIC_VENV)/.stamp:
	/usr/bin/python3 -m venv $(RIC_VENV)
	$(RIC_VENV)/bin/pip install --quiet --disable-pip-version-check awslambdaric==4.2.2
	@touch $@

# AWS's Node.js runtime interface client, aws-lambda-ric 3.3.0 from npm, as
# tests/rie/node-ric locks it, for tests/third_party.rs. Its install scripts
# build aws-lambda-cpp and curl (autoconf, automake, libtool, cmake: `make
# deps`) and the addon, against the headers of the node on PATH (nodedir:
# its prefix, /usr for Debian's or NodeSource's; so node-gyp fetches none). About 1.5 minutes on 2 cores; 164 MB.
NODE_RIC := $(OUT)/node-ric
node-ric: $(NODE_RIC)/.stamp ## aws-lambda-ric (AWS's Node.js runtime client, from npm) in out/node-ric for the third-party tests
$(NODE_RIC)/.stamp: tests/rie/node-ric/package.json tests/rie/node-ric/package-lock.json
	rm -rf $(NODE_RIC)
	mkdir -p $(NODE_RIC)
	cp $^ $(NODE_RIC)/
	cd $(NODE_RIC) && npm_config_nodedir="$$(dirname "$$(dirname "$$(command -v node)")")" npm ci --no-audit --no-fund --loglevel=error
	test -f $(NODE_RIC)/node_modules/aws-lambda-ric/dist/rapid-client.node
	@touch $@

rie-figures: $(RIE_BIN) $(OUT)/image/faas-rie $(OUT)/image/bootstrap ## Measure faas-rie and AWS's aws-lambda-rie side by side: round trip, invokes/s, podman run to first answer, image sizes
	/usr/bin/python3 tests/rie/figures.py --rie $(RIE_BIN) --aws-rie $(AWS_RIE) --bootstrap $(OUT)/static/$(IMAGE_ECHO) --engine $(ENGINE) --context $(OUT)/image

test: $(RIE_BIN) ric-venv node-ric

# cargo-lambda, pinned, from crates.io (its lock file: --locked), for
# tests/third_party.rs: `cargo lambda watch --only-lambda-apis` is a Runtime
# API emulator written by others. The dev profile (a test tool; ~5 min on
# 2 cores), without debug info, and without debug assertions: with them,
# 1.9.2 panics at start (clap: 'remote' in tls_cert's conflicts_with does
# not exist).
CARGO_LAMBDA := $(OUT)/cargo-lambda/bin/cargo-lambda
.PHONY: cargo-lambda
cargo-lambda: $(CARGO_LAMBDA) ## cargo-lambda 1.9.2 (crates.io, dev profile) in out/cargo-lambda for tests/third_party.rs
$(CARGO_LAMBDA):
	$(CARGO) install cargo-lambda --version 1.9.2 --locked --debug --root $(OUT)/cargo-lambda \
	  --config 'profile.dev.debug-assertions=false' --config 'profile.dev.debug=false'

test: cargo-lambda

# Current AWS SDKs, pinned, for tests/sdk.rs: boto3 from PyPI in a venv
# (tests/rie/sdk-requirements.txt), and the AWS SDK for JavaScript v3 from
# the npm registry, installed by `npm ci` from tests/rie/js's lock file.
SDK_VENV := $(OUT)/sdk-venv
SDK_JS   := $(OUT)/sdk-js
.PHONY: sdk-venv sdk-js
sdk-venv: $(SDK_VENV)/.stamp ## A venv with a current boto3 (from PyPI, pinned) for tests/sdk.rs
$(SDK_VENV)/.stamp: tests/rie/sdk-requirements.txt
	rm -rf $(SDK_VENV)
	/usr/bin/python3 -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

sdk-js: $(SDK_JS)/.stamp ## @aws-sdk/client-lambda (from npm, as tests/rie/js locks it) in out/sdk-js for tests/sdk.rs
$(SDK_JS)/.stamp: tests/rie/js/package.json tests/rie/js/package-lock.json
	rm -rf $(SDK_JS)
	mkdir -p $(SDK_JS)
	cp $^ $(SDK_JS)/
	cd $(SDK_JS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

test: sdk-venv sdk-js

# The AWS SDK for Go v2 as Debian 12 packages it (golang-go,
# golang-github-aws-aws-sdk-go-v2-dev: `make deps`), for tests/sdk.rs: no Go
# module is fetched; tests/rie/go/lambda_check.go is built in GOPATH mode
# against /usr/share/gocode, offline, its build cache under out/.
SDK_GO   := $(OUT)/sdk-go
GO_SDK   := /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/service/lambda
.PHONY: sdk-go
sdk-go: $(SDK_GO)/lambda_check ## tests/rie/go/lambda_check (AWS SDK for Go v2 from Debian's packages) in out/sdk-go for tests/sdk.rs
$(SDK_GO)/lambda_check: tests/rie/go/lambda_check.go
	@test -d $(GO_SDK) && command -v go >/dev/null || { echo 'make sdk-go: install the Debian packages golang-go and golang-github-aws-aws-sdk-go-v2-dev (`make deps`)'; exit 1; }
	@mkdir -p $(@D)
	env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(abspath $(SDK_GO))/cache GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
	  go build -o $@ $<

test: sdk-go

# The AWS SDK for Rust (aws-sdk-lambda from crates.io, locked by
# tests/rie/rust-sdk/Cargo.lock; its own workspace, as tests/official-rs),
# built into out/sdk-rust for tests/sdk.rs (about 3 minutes the first time).
SDK_RS     := $(OUT)/sdk-rust
SDK_RS_SRC := tests/rie/rust-sdk
.PHONY: sdk-rust
sdk-rust: $(SDK_RS)/release/lambda-check ## tests/rie/rust-sdk (AWS SDK for Rust, from crates.io) in out/sdk-rust for tests/sdk.rs
$(SDK_RS)/release/lambda-check: $(addprefix $(SDK_RS_SRC)/,Cargo.toml Cargo.lock build.rs src/main.rs)
	$(CARGO) build --release --locked --manifest-path $(SDK_RS_SRC)/Cargo.toml --target-dir $(SDK_RS)

test: sdk-rust

# AWS CLI v1 (PyPI, pinned), so that tests/rie.rs runs the README's invoke
# command with v1 as well as with Debian's v2.
CLI1_VENV := $(OUT)/cli1-venv
.PHONY: cli1-venv
cli1-venv: $(CLI1_VENV)/.stamp ## A venv with AWS CLI v1 (from PyPI, pinned) for tests/rie.rs
$(CLI1_VENV)/.stamp: tests/rie/cli1-requirements.txt
	rm -rf $(CLI1_VENV)
	/usr/bin/python3 -m venv $(CLI1_VENV)
	$(CLI1_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

test: cli1-venv

# AWS's own Runtime Interface Emulator (aws-lambda-rie, the Go program in
# AWS's Lambda base images), for tests/aws_rie.rs: faas's bootstraps under
# the emulator AWS wrote. GitHub, where AWS publishes it, is not reachable
# from every build machine, so it comes from PyPI: the AWS SAM CLI wheel
# carries it (samcli/local/rapid/, what `sam local invoke` mounts into its
# containers), pinned by its sha256. Only the one x86-64 file is kept.
AWS_RIE        := $(OUT)/aws-rie/aws-lambda-rie
SAM_WHEEL_URL  := https://files.pythonhosted.org/packages/53/45/c163561112b2c766b151010955fbe5ceb8831c8ca42dca9a16fe65d08e07/aws_sam_cli-1.170.0-py3-none-any.whl
SAM_WHEEL_SHA  := 24ebaf5ecba38dc1758089968cb89ab61e124b84e92a344fc7a2771a47f4d0bf
.PHONY: aws-rie
aws-rie: $(AWS_RIE) ## AWS's aws-lambda-rie (from the AWS SAM CLI 1.170.0 wheel on PyPI) in out/aws-rie for tests/aws_rie.rs
$(AWS_RIE):
	@mkdir -p $(@D)
	curl -fsSL -o $(@D)/sam.whl.part $(SAM_WHEEL_URL)
	echo '$(SAM_WHEEL_SHA)  $(@D)/sam.whl.part' | sha256sum -c --quiet
	unzip -p $(@D)/sam.whl.part samcli/local/rapid/aws-lambda-rie-x86_64 > $@.part
	rm -f $(@D)/sam.whl.part
	chmod 0755 $@.part && mv $@.part $@

test: aws-rie
rie-figures: aws-rie
