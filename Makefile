# flowacct — per-process network flow accounting with CO-RE eBPF.
# `make` builds ./flowacct; `make run` and `make test` first install what is missing.
# V=1 shows full commands; STATIC=1 links a fully static binary (no Prometheus endpoint:
# Debian ships libmicrohttpd's TLS dependencies as shared libraries only).

OUTPUT := .output
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_DIR := vmlinux/$(ARCH)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CFLAGS ?= -g -O2
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -MMD -MP -D_GNU_SOURCE -DFA_VERSION='"$(VERSION)"'
# SAN_CFLAGS: the sanitizer build's flags (make sanitize-bins), for compiling and linking
CFLAGS += $(SAN_CFLAGS)
LDFLAGS += $(SAN_CFLAGS)
# the binary; the sanitizer build makes its own under its output directory
FA_BIN ?= flowacct
INCLUDES := -I$(OUTPUT) -Ibpf -Iuser
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(VMLINUX_DIR) -Ibpf

# yajl writes every JSON output; jansson only parses JSON, in tests (TEST_JSON_LIBS).
# Debian names yajl's static archive libyajl_s.a, which -lyajl does not find.
# libseccomp builds the running phase's system call filter (user/sandbox.c).
LIBS := -lbpf -lelf -lz -lncursesw -ltinfo -lseccomp -lpthread
TEST_JSON_LIBS := -ljansson
# libyaml parses --web-config (user/webconfig.c; static archive too). The endpoint's TLS
# is libmicrohttpd's over GnuTLS, which prom_http.c also calls itself (the certificate
# check before loading, client certificates, the digests of passwords that passed);
# libxcrypt checks the bcrypt hashes of basic auth.
LIBS += $(shell pkg-config --libs yaml-0.1)
ifeq ($(STATIC),1)
LDFLAGS += -static
LIBS += -lzstd -l:libyajl_s.a
CFLAGS += -DFA_NO_HTTP
else
LIBS += -lyajl $(shell pkg-config --libs libmicrohttpd gnutls libxcrypt)
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPF_TEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BINS := $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/bpf/%,$(BPF_TEST_SRCS))
ITEST_SRCS := $(wildcard tests/integration/*.c)
ITEST_BINS := $(patsubst tests/integration/%.c,$(OUTPUT)/tests/%,$(ITEST_SRCS))
# BPF programs the integration tests attach themselves (loss on demand: xdp_drop)
ITEST_BPF := $(patsubst tests/bpf/%.bpf.c,$(OUTPUT)/tests/bpf/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))
# libFuzzer targets, one per parser of bytes others choose (tests/fuzz/README.md); each
# links the user/ modules its fuzz_NAME_OBJS line names, compiled again with FUZZ_CFLAGS.
FUZZ_TARGETS := pktparse cli cgname rtnames mountinfo webconfig
fuzz_pktparse_OBJS := pktparse
fuzz_cli_OBJS := backend cgname cli counters format log protos snapshot tuple util view
fuzz_cgname_OBJS := cgname
fuzz_rtnames_OBJS := rtnames util
fuzz_mountinfo_OBJS := util
fuzz_webconfig_OBJS := format log tuple util webconfig
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_TARGETS))

.PHONY: all deps run test test-bins unit-bins sanitize-bins unit bpf-tests integration vmtest bench \
	bench-scale bench-packets fuzz soak format-check clean
.DELETE_ON_ERROR:

all: $(FA_BIN)

deps:
	$(Q)scripts/install-deps.sh all

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./flowacct

test: deps
	$(Q)$(MAKE) --no-print-directory all test-bins format-check
	$(Q)tests/run.sh

# Test tiers (tests/run.sh): build and unit need no root; bpf and integration need root.
test-bins: $(UNIT_BINS) $(BPF_TEST_BINS) $(ITEST_BINS) $(ITEST_BPF) $(FUZZ_BINS) sanitize-bins
unit-bins: $(UNIT_BINS)

# flowacct and the unit tests again with AddressSanitizer and UBSan, under their own output
# directory (tests/run.sh sanitize runs them); gcc's sanitizers, the compiler of the build
SAN_OUTPUT := $(OUTPUT)/asan
sanitize-bins:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) FA_BIN=$(SAN_OUTPUT)/flowacct \
		SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		$(SAN_OUTPUT)/flowacct unit-bins

unit: $(UNIT_BINS)
	$(Q)tests/run.sh build unit

bpf-tests: $(BPF_TEST_BINS)
	$(Q)tests/run.sh bpf

integration: all $(ITEST_BINS) $(ITEST_BPF) $(FUZZ_BINS)
	$(Q)tests/run.sh integration

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/tests/bpf $(OUTPUT)/fuzz/obj $(OUTPUT)/bench:
	$(Q)mkdir -p $@

# BPF objects, stripped of DWARF (BTF stays), then their skeleton headers: flowacct's own
# (bpf/) and make bench's floor (bench/). The dependency file names the object itself
# (-MT), not the unstripped temporary clang writes. $(1): output dir, $(2): source dir.
define BPF_RULES
$(1)/%.bpf.o: $(2)/%.bpf.c | $(1)
	$$(call msg,BPF,$$@)
	$$(Q)$$(CLANG) $$(BPF_CFLAGS) -MMD -MP -MT $$@ -MF $(1)/$$*.bpf.d -c $$< -o $$@.tmp
	$$(Q)$$(LLVM_STRIP) -g $$@.tmp -o $$@
	$$(Q)rm -f $$@.tmp

$(1)/%.skel.h: $(1)/%.bpf.o
	$$(call msg,GEN-SKEL,$$@)
	$$(Q)$$(BPFTOOL) gen skeleton $$< name $$*_bpf > $$@
endef
$(eval $(call BPF_RULES,$(OUTPUT),bpf))
$(eval $(call BPF_RULES,$(OUTPUT)/bench,bench))
$(eval $(call BPF_RULES,$(OUTPUT)/tests/bpf,tests/bpf))
# made by pattern rules, so intermediate to make: kept, and never rebuilt for being gone
.SECONDARY: $(OUTPUT)/flowacct.bpf.o $(OUTPUT)/flowacct.skel.h \
	$(OUTPUT)/bench/empty_hook.bpf.o $(OUTPUT)/bench/empty_hook.skel.h

$(USER_OBJS): $(OUTPUT)/flowacct.skel.h
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

$(FA_BIN): $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# ---- test programs ----
# The user/ modules each test program links (names without .o), besides its own source:
# the module it tests and what that module needs, nothing more; a link error names what
# is missing. One line per program; a unit or BPF test without a line here is an error.
# Integration helpers (tests/integration/*.c) without a line link no module.
test_core_OBJS := backend cgname cli privs protos counters format log out_json out_text output snapshot tuple util view
test_counters_OBJS := counters
test_pktparse_OBJS := pktparse
test_prom_OBJS := cgname counters format log out_json output prom_http prom_render snapshot tuple util view webconfig
test_tui_layout_OBJS := counters format history snapshot tui_layout tuple util view
test_protos_OBJS := log protos
test_sockdiag_OBJS := log sockdiag tuple
test_cgname_OBJS := cgname
test_rtnames_OBJS := rtnames util
test_webconfig_OBJS := format log tuple util webconfig
test_sandbox_OBJS := log sandbox
test_collector_OBJS := backend cgname cgroups collector format privs rtnames protos counters log pktparse pktring snapshot tuple util
pktring_probe_OBJS := log pktparse pktring util
fa_churn_OBJS := format tuple

.SECONDEXPANSION:
# test_objs NAME: the objects of NAME_OBJS
test_objs = $(addprefix $(OUTPUT)/user/,$(addsuffix .o,$($(1)_OBJS)))
# need_objs NAME, in a recipe: stops make if NAME_OBJS is not set
need_objs = $(if $(filter undefined,$(origin $(1)_OBJS)),$(error no $(1)_OBJS in the \
	Makefile: list the user/ modules $(1) links))
# Test programs are linked with --as-needed: each keeps only the libraries it uses.
TEST_LDFLAGS = $(LDFLAGS) -Wl,--as-needed

# unit tier: cmocka, no root, no BPF
$(OUTPUT)/tests/test_%: tests/unit/test_%.c $$(call test_objs,test_$$*) | $(OUTPUT)/tests
	$(call need_objs,test_$*)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(filter %.o,$^) $(TEST_LDFLAGS) $(LIBS) $(TEST_JSON_LIBS) \
		-lcmocka -o $@

# bpf tier: cmocka against real BPF maps (root)
$(OUTPUT)/tests/bpf/test_%: tests/bpf/test_%.c $$(call test_objs,test_$$*) | $(OUTPUT)/tests/bpf
	$(call need_objs,test_$*)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(filter %.o,$^) $(TEST_LDFLAGS) $(LIBS) -lcmocka -o $@

# integration helpers: traffic generators and drivers the scripts run
$(OUTPUT)/tests/%: tests/integration/%.c $$(call test_objs,$$*) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(filter %.o,$^) $(TEST_LDFLAGS) $(TEST_JSON_LIBS) -lpthread -o $@

# The libFuzzer targets, with AddressSanitizer and UBSan: their own flags, so the parsers
# are compiled again into their own object directory.
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -MMD -MP -D_GNU_SOURCE -DFA_VERSION='"$(VERSION)"' \
	-I$(OUTPUT) -Ibpf -Iuser \
	-fsanitize=address,undefined -fno-sanitize-recover=all
$(OUTPUT)/fuzz/obj/%.o: user/%.c $(OUTPUT)/flowacct.skel.h | $(OUTPUT)/fuzz/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
		$$(addprefix $(OUTPUT)/fuzz/obj/,$$(addsuffix .o,$$(fuzz_$$*_OBJS))) | $(OUTPUT)/fuzz/obj
	$(if $(filter undefined,$(origin fuzz_$*_OBJS)),$(error no fuzz_$*_OBJS in the Makefile))
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(filter %.o,$^) -Wl,--as-needed $(LIBS) -o $@

# make bench's floor: empty programs on the hooks of one backend (bench/empty_hook.c)
BENCH_BIN := $(OUTPUT)/bench/empty_hook
$(BENCH_BIN): bench/empty_hook.c $(OUTPUT)/bench/empty_hook.skel.h $(OUTPUT)/user/util.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench -Iuser $< $(OUTPUT)/user/util.o $(LDFLAGS) -lbpf -lelf -lz \
		-lpthread -o $@

bench: deps all $(BENCH_BIN)
	$(Q)scripts/bench.sh

# user-space cost with 10k and 100k flows (scripts/bench-scale.sh; docs/PERFORMANCE.md)
bench-scale: deps all
	$(Q)scripts/bench-scale.sh

# --packets at the highest small-UDP rate, beside tcpdump (scripts/bench-packets.sh)
bench-packets: deps all
	$(Q)scripts/bench-packets.sh

# The churn soak (tests/integration/71-churn.sh, which make test runs with 2,000
# processes): 10,000 short-lived processes at 50 a second, then 20,000 as fast as they go
# (the flow table fills); every byte of each exact, the tables bounded, RSS and CPU flat
soak: deps all $(OUTPUT)/tests/fa_churn
	$(Q)FA_CHURN_N=10000 FA_CHURN_RATE=50 bash tests/integration/71-churn.sh
	$(Q)FA_CHURN_N=20000 FA_CHURN_RATE=0 bash tests/integration/71-churn.sh

# Every fuzz target, FUZZ_SECONDS each (default 300; make test runs each for less)
fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $$t $(or $(FUZZ_SECONDS),300) || exit 1; done

# Kernel style (tabs, 100 columns): .clang-format
FORMAT_SRCS := $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h)
format-check:
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) flowacct

# Dependencies the compilers wrote (-MMD): headers, vmlinux.h, the skeleton
-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/bench/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d \
	$(OUTPUT)/tests/bpf/*.d $(OUTPUT)/fuzz/*.d $(OUTPUT)/fuzz/obj/*.d)

# ---- kernel matrix (issue 3; docs/vmtest.md) ----
# Boots each kernel of tests/vm/kernels.conf under QEMU and runs the exactness tests inside,
# once per backend. It builds its own static flowacct in a copy of the tree under
# .output/vmtest/, so ./flowacct stays the dynamic one.
vmtest: deps
	$(Q)scripts/vmtest.sh

# The whole integration suite inside each kernel's guest, with a Debian 12 userland built
# by mmdebstrap (cached outside the tree); slow under TCG, so not part of `make test`.
.PHONY: vmtest-full
vmtest-full: deps
	$(Q)scripts/vmtest-full.sh

# ---- Debian package (docs/packaging.md) ----
# flowacct_VERSION_amd64.deb in .output/deb/, built by dpkg-buildpackage from debian/ in a
# copy of the tree (the working tree stays as it is), then checked by lintian.
.PHONY: deb
deb:
	$(Q)scripts/install-deps.sh deb
	$(Q)scripts/build-deb.sh $(OUTPUT)/deb
