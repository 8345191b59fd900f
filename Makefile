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
INCLUDES := -I$(OUTPUT) -Ibpf -Iuser
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(VMLINUX_DIR) -Ibpf

LIBS := -lbpf -lelf -lz -ljansson -lncursesw -ltinfo -lpthread
ifeq ($(STATIC),1)
LDFLAGS += -static
LIBS += -lzstd
CFLAGS += -DFA_NO_HTTP
else
LIBS += -lmicrohttpd
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
LIB_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
ITEST_SRCS := $(wildcard tests/integration/*.c)
ITEST_BINS := $(patsubst tests/integration/%.c,$(OUTPUT)/tests/%,$(ITEST_SRCS))

.PHONY: all deps run test unit integration vmtest bench fuzz format-check clean
.DELETE_ON_ERROR:

all: flowacct

deps:
	$(Q)scripts/install-deps.sh all

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./flowacct

test: deps
	$(Q)$(MAKE) --no-print-directory all test-bins format-check
	$(Q)tests/run.sh

test-bins: $(UNIT_BINS) $(ITEST_BINS)

unit: $(UNIT_BINS)
	$(Q)tests/run.sh unit

integration: all $(ITEST_BINS)
	$(Q)tests/run.sh integration

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# BPF object, stripped of DWARF (BTF stays), then its skeleton header.
$(OUTPUT)/flowacct.bpf.o: bpf/flowacct.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp -o $@
	$(Q)rm -f $@.tmp

$(OUTPUT)/flowacct.skel.h: $(OUTPUT)/flowacct.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name flowacct_bpf > $@

$(USER_OBJS): $(OUTPUT)/flowacct.skel.h
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

flowacct: $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(LIB_OBJS) $(LDFLAGS) $(LIBS) -lcmocka -o $@

$(OUTPUT)/tests/%: tests/integration/%.c | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(LDFLAGS) -ljansson -lpthread -o $@

bench: deps all
	$(Q)scripts/bench.sh

# The packet parser's libFuzzer target, long run (make test runs it for 60 s)
fuzz: deps
	$(Q)tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

# Kernel style (tabs, 100 columns): .clang-format
FORMAT_SRCS := $(wildcard bpf/*.c bpf/*.h user/*.c user/*.h)
format-check:
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) flowacct

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)

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
