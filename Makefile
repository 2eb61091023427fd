# hotpatch toolchain: hpdiff, hpbuild, hpverify, hpapply.
#
#   make            build the tools (build/)
#   make demo       install missing build dependencies, build, run a demo
#   make live-demo  build, then patch a running program and revert it
#   make check      install missing build dependencies, build with ASan and
#                   UBSan (build/check/), run every test
#   make bench      benchmarks (bench/README.md)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make install    install the tools and man pages (GNU directory
#                   variables: prefix=/usr/local exec_prefix bindir mandir
#                   DESTDIR; PREFIX, BINDIR and MANDIR are accepted too)
#   make uninstall  remove what make install installed (same variables)
#
# Sources are found by wildcard: lib/*.c is the shared library, each tool
# directory's *.c is its command, tests/unit/test_*.c are cmocka tests.

PREFIX    ?= /usr/local
prefix    ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir    ?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
mandir    ?= $(datarootdir)/man
BINDIR    ?= $(bindir)
MANDIR    ?= $(mandir)
DESTDIR   ?=
CC        ?= gcc
BUILD     ?= build
TOOLS     := hpdiff hpbuild hpverify hpapply
DWARF_INC := -I/usr/include/libdwarf

WARN      := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
BASEFLAGS := -std=gnu11 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Ilib $(DWARF_INC) $(foreach t,$(TOOLS),-I$(t))
OPT       ?= -O2
SAN       ?=
CFLAGS_ALL = $(BASEFLAGS) $(OPT) $(WARN) $(SAN) $(CFLAGS)
LIBS      := -ldwarf -lelf -lz -lcapstone -lxxhash -pthread
TESTLIBS  := -lcmocka

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_BINS := $(foreach t,$(TOOLS),$(if $(wildcard $(t)/main.c),$(BUILD)/$(t)))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TESTHELP_SRC := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
TESTHELP_OBJ := $(TESTHELP_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all deps demo live-demo check unit e2e bench fuzz fuzz-replay install uninstall clean
.SECONDARY:

all: $(TOOL_BINS)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c $(wildcard lib/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libhp.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Each tool's engine (its *.c but main.c) is an archive of its own; every
# command and test links all engines (hpbuild uses hpdiff's, hpverify and
# hpbuild share the safety rules), grouped so their order does not matter.
engine_obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
ENGINE_LIBS := $(foreach t,$(TOOLS),$(BUILD)/lib$(t).a)
LINK_LIBS = -Wl,--start-group $(ENGINE_LIBS) $(BUILD)/libhp.a -Wl,--end-group $(LIBS)

define tool_rule
$(BUILD)/lib$(1).a: $(call engine_obj,$(1))
	@rm -f $$@
	ar rcs $$@ $$^
$(BUILD)/$(1): $(BUILD)/obj/$(1)/main.o $(ENGINE_LIBS) $(BUILD)/libhp.a
	$$(CC) $$(CFLAGS_ALL) -o $$@ $$< $$(LINK_LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTHELP_OBJ) $(ENGINE_LIBS) $(BUILD)/libhp.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(TESTHELP_OBJ) $(LINK_LIBS) $(TESTLIBS)

# make check: everything under AddressSanitizer and UBSan, in build/check.
CHECK_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check: deps
	@$(MAKE) --no-print-directory BUILD=build/check OPT=-O1 SAN="$(CHECK_SAN)" all unit-bins
	@BUILD=build/check sh tests/run.sh

unit-bins: $(UNIT_BINS)

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
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(TOOLS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/man1/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/man5/*.5)))

clean:
	rm -rf build
