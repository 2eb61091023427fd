# hotpatch toolchain: hpdiff, hpbuild, hpverify, hpapply.
#
#   make              build the tools (build/)
#   make demo         install missing build dependencies, build, run a demo
#   make live-demo    build, then patch a running program and revert it
#   make check        install missing build dependencies, build with ASan and
#                     UBSan (build/check/), run every test in parallel
#   make check-fast   unit tests and the fast suites on the plain build, for
#                     the edit-test loop (no sanitizer rebuild)
#   make check-stress the live suites many times under a CPU load
#   make bench        benchmarks (bench/README.md)
#   make fuzz         run each libFuzzer target for FUZZ_SECONDS
#   make install      install the tools and man pages; GNU directory variables
#                     prefix=/usr/local exec_prefix bindir mandir DESTDIR
#                     (PREFIX, BINDIR and MANDIR are accepted too)
#   make uninstall    remove them again (same variables)
#
# tests/README.md says how to run one suite, one unit test or one fixture.
#
# Layering, stated here and enforced by the link: lib/ (libhp.a) is the
# shared model and pipeline and knows no command; each tool directory is an
# engine archive (its *.c but main.c) plus its command.  A tool sees the
# headers of, and links, only itself, the engines listed in its _USES, and
# lib/ -- in that order, without --start-group, so a dependency that is not
# listed fails to compile or to link.  tests/e2e/layering.sh checks the
# includes in make check as well.

PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
mandir      ?= $(prefix)/share/man
BINDIR      ?= $(bindir)
MANDIR      ?= $(mandir)
DESTDIR     ?=
CC          ?= gcc
BUILD       ?= build
TOOLS       := hpdiff hpbuild hpverify hpapply
DWARF_INC   := -I/usr/include/libdwarf

# What each tool may use besides lib/, most dependent first.
hpdiff_USES   :=
hpverify_USES :=
hpbuild_USES  := hpverify hpdiff
hpapply_USES  :=

WARN      := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
BASEFLAGS := -std=gnu11 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -MMD -MP
OPT       ?= -O2
SAN       ?=
CFLAGS_ALL = $(BASEFLAGS) $(OPT) $(WARN) $(SAN) $(CFLAGS)
LIBS      := -Wl,--as-needed -ldwarf -ldw -lelf -lz -lcapstone -lxxhash -lsodium -pthread
TESTLIBS  := -lcmocka

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_BINS := $(foreach t,$(TOOLS),$(if $(wildcard $(t)/main.c),$(BUILD)/$(t)))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TESTHELP_SRC := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
TESTHELP_OBJ := $(TESTHELP_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all deps demo live-demo check check-fast check-stress unit-bins bench fuzz \
	install uninstall clean
.SECONDARY:

all: $(TOOL_BINS)

deps:
	@sh scripts/deps.sh

# Include paths by directory: lib/ sees lib/ only; a tool sees itself, its
# _USES and lib/; the tests see everything.
incs_of = $(foreach d,$(1) $($(1)_USES),-I$(d)) -Ilib $(DWARF_INC)
ALL_INCS := $(foreach t,$(TOOLS),-I$(t)) -Ilib $(DWARF_INC)

# Objects compiled before header dependencies were recorded (no .d file)
# know nothing of their headers: this stamp, made once, rebuilds them.
DEPS_STAMP := $(BUILD)/obj/.deps-recorded
$(DEPS_STAMP):
	@mkdir -p $(dir $@)
	@touch $@

# An archive is rebuilt when its list of members changes, not only when a
# member does: a source moved to another directory must not leave its old
# object in the archive, where the link would still find it.
# record_members OBJS FILE rewrites FILE only when the list differs.
record_members = $(if $(filter-out $(file <$(2)),$(1))$(filter-out $(1),$(file <$(2))),$(shell mkdir -p $(dir $(2)))$(file >$(2),$(1)))

$(BUILD)/obj/lib/%.o: lib/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib $(DWARF_INC) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(ALL_INCS) -c $< -o $@

$(call record_members,$(LIB_OBJ),$(BUILD)/obj/libhp.members)
$(BUILD)/libhp.a: $(LIB_OBJ) $(BUILD)/obj/libhp.members
	@rm -f $@
	ar rcs $@ $(filter %.o,$^)

# engine_obj TOOL: its objects but main's.  engine_libs TOOL: the archives
# it links, in link order (itself, its _USES, lib/).
engine_obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(1)/main.c,$(sort $(wildcard $(1)/*.c))))
engine_libs = $(foreach d,$(1) $($(1)_USES),$(BUILD)/lib$(d).a) $(BUILD)/libhp.a

define tool_rule
$(BUILD)/obj/$(1)/%.o: $(1)/%.c $$(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_ALL) $(call incs_of,$(1)) -c $$< -o $$@
$(call record_members,$(call engine_obj,$(1)),$(BUILD)/obj/lib$(1).members)
$(BUILD)/lib$(1).a: $(call engine_obj,$(1)) $(BUILD)/obj/lib$(1).members
	@rm -f $$@
	ar rcs $$@ $$(filter %.o,$$^)
$(BUILD)/$(1): $(BUILD)/obj/$(1)/main.o $(call engine_libs,$(1))
	$$(CC) $$(CFLAGS_ALL) -o $$@ $$< $(call engine_libs,$(1)) $$(LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

# The unit tests may test any layer: every engine, most dependent first.
TEST_LIBS := $(foreach d,hpbuild hpverify hpdiff hpapply,$(BUILD)/lib$(d).a) $(BUILD)/libhp.a
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTHELP_OBJ) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(TESTHELP_OBJ) $(TEST_LIBS) $(LIBS) $(TESTLIBS)

unit-bins: $(UNIT_BINS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# make check: everything under AddressSanitizer and UBSan, in build/check,
# suites in parallel (JOBS, default the number of CPUs).  tests/run.sh
# keeps every suite's log in build/check/logs/.
CHECK_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
NPROC := $(shell nproc 2>/dev/null || echo 2)
JOBS ?= $(NPROC)
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/check OPT=-O1 SAN="$(CHECK_SAN)" all unit-bins
	@BUILD=build/check sh tests/run.sh -j $(JOBS) $(SUITES)

# make check-fast: the plain build (build/), the unit tests and the suites
# that take seconds; the live suites and the slow fixture sweeps are left
# to make check.
FAST_SUITES := unit docs layering hpverify fuzz-replay
check-fast: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit-bins
	@BUILD=$(BUILD) sh tests/run.sh -j $(JOBS) $(FAST_SUITES)

# make check-stress: the suites that drive live processes, STRESS_RUNS
# times each under STRESS_LOAD (tests/stress.sh).
check-stress: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/check OPT=-O1 SAN="$(CHECK_SAN)" all unit-bins
	@BUILD=build/check sh tests/stress.sh

demo: deps all
	@sh scripts/demo.sh $(BUILD)

live-demo: deps all
	@sh scripts/live-demo.sh $(BUILD)

bench: deps all
	@sh bench/run.sh $(BUILD)

fuzz: deps
	@sh fuzz/run.sh $${FUZZ_SECONDS:-600}

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	install -m 644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/man5/*.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(foreach t,$(TOOLS),$(DESTDIR)$(BINDIR)/$(t))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/%,$(wildcard man/man1/*.1 man/man5/*.5))

clean:
	rm -rf build
