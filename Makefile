# faas: build, test and package. `make help` lists the targets.
#
# Outputs (all under out/):
#   out/lib/libfaas.a            the C ABI static library
#   out/static/NAME              each example, static (musl), for FROM-scratch images
#   out/dynamic/NAME             each example, dynamic (glibc <= 2.34), for provided.al2023
#   out/zip/NAME.zip             each dynamic example as a Lambda zip (bootstrap at the root)

CARGO    ?= cargo
CC       ?= cc
MUSL_CC  ?= musl-gcc
OUT      := out
REL      := target/release
VERSION  := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

C_EXAMPLES  := echo-c context-c stream-c
RS_EXAMPLES := echo-rs typed-rs stream-rs
EXAMPLES    := $(C_EXAMPLES) $(RS_EXAMPLES)

# C is compiled strictly; everything is size-optimised and linked without
# unwind tables, build ids or page padding.
CSTRICT  := -std=c99 -Wall -Wextra -Wpedantic -Werror
COPT     := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
LDMIN    := -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -Wl,--hash-style=gnu -Wl,-z,norelro -s
LDSTATIC := -static $(LDMIN)
LDDYN    := -no-pie $(LDMIN)

LIB := $(OUT)/lib/libfaas.a
RUST_SRC := Cargo.toml Cargo.lock $(shell find crates/faas c-abi examples -name '*.rs' -o -name Cargo.toml)

.PHONY: all lib examples zip test test-unit test-c size clean help
all: lib examples zip ## Build the library, every example (static and dynamic) and the zips

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

lib: $(LIB) ## Build out/lib/libfaas.a

# One cargo run builds libfaas.a and the Rust examples (each a staticlib
# with its own main), all with the release profile: opt-level z, LTO,
# panic = abort. The final link is done by cc / musl-gcc below.
$(REL)/.stamp: $(RUST_SRC)
	$(CARGO) build --release --locked -p faas-c $(addprefix -p ,$(RS_EXAMPLES))
	@touch $@

$(LIB): $(REL)/.stamp
	@mkdir -p $(@D)
	cp $(REL)/libfaas_c.a $@

examples: $(addprefix $(OUT)/static/,$(EXAMPLES)) $(addprefix $(OUT)/dynamic/,$(EXAMPLES)) ## Build every example

$(OUT)/static/%-c: examples/%.c include/faas.h $(LIB)
	@mkdir -p $(@D)
	$(MUSL_CC) $(CSTRICT) $(COPT) -Iinclude $< $(LIB) $(LDSTATIC) -o $@

$(OUT)/dynamic/%-c: examples/%.c include/faas.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CSTRICT) $(COPT) -Iinclude $< $(LIB) $(LDDYN) -o $@

$(OUT)/static/%-rs: $(REL)/.stamp
	@mkdir -p $(@D)
	$(MUSL_CC) $(REL)/lib$(subst -,_,$*)_rs.a $(LDSTATIC) -o $@

$(OUT)/dynamic/%-rs: $(REL)/.stamp
	@mkdir -p $(@D)
	$(CC) $(REL)/lib$(subst -,_,$*)_rs.a $(LDDYN) -o $@

zip: $(addprefix $(OUT)/zip/,$(addsuffix .zip,$(EXAMPLES))) ## One Lambda zip per example (dynamic bootstrap)

# The zip holds one file, `bootstrap`, mode 0755, with a fixed timestamp so
# that the same binary always gives the same zip.
$(OUT)/zip/%.zip: $(OUT)/dynamic/%
	@mkdir -p $(@D) $(OUT)/zip/$*.d
	cp $< $(OUT)/zip/$*.d/bootstrap
	chmod 0755 $(OUT)/zip/$*.d/bootstrap
	touch -d '2020-01-01 00:00:00Z' $(OUT)/zip/$*.d/bootstrap
	rm -f $@ && cd $(OUT)/zip/$*.d && zip -q -X -9 ../$*.zip bootstrap

size: all ## Print the size of every artefact
	@printf '%-28s %10s\n' artefact bytes
	@for f in $(OUT)/static/* $(OUT)/dynamic/* $(OUT)/zip/*.zip; do printf '%-28s %10s\n' $$f $$(stat -c %s $$f); done

test: all test-unit test-c ## Run every test
	$(CARGO) test --release --locked -p faas-tests

test-unit: ## The core's unit tests and doctests
	$(CARGO) test --locked -p faas

test-c: $(LIB) ## C header checks: version agreement, exported symbols, ASan/UBSan
	tests/c/run.sh

clean: ## Remove build output
	rm -rf $(OUT) target
