# ragpipe: five composable filters over JSON lines.
#
#   make deps      install the Debian packages the build and tests need
#   make           build bin/rag-*
#   make check     run the unit tests of common/ and the bats tests
#   make demo      run the pipeline on the bundled documents (installs only
#                  what it needs; keeps its index in demo-kb/)
#   make bench     run the benchmarks in bench/
#   make fuzz      run the fuzz targets of tests/fuzz/ (FUZZ_SECONDS each)
#   make install   PREFIX=/usr/local DESTDIR=

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
DOCDIR    = $(PREFIX)/share/doc/ragpipe

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror
CPPFLAGS += -std=c11 -D_GNU_SOURCE -DRAGPIPE_VERSION='"$(VERSION)"' -Icommon

# make check SANITIZE=address,undefined builds everything with sanitizers.
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
BUILD     = build/san
else
BUILD     = build/rel
endif

BIN       = bin

MUPDF_LIBS = -lmupdf -lmupdf-third -lharfbuzz -lfreetype -ljbig2dec -lopenjp2 -ljpeg -lz -lgumbo -lmujs -lm
BASE_LIBS  = -lcurl -lsqlite3 -ljson-c -lutf8proc -lm -lpthread
FAISS_LIBS = -lfaiss -lopenblas -lgomp -lstdc++ -lm
CXX       ?= g++
CXXFLAGS_BASE = -DRAGPIPE_VERSION='"$(VERSION)"' 

# Debian packages needed to build and run the demo (make demo installs only
# these) ...
DEMO_PKGS = build-essential pkg-config \
	libmupdf-dev libharfbuzz-dev libjbig2dec0-dev libopenjp2-7-dev \
	libgumbo-dev libmujs-dev libfreetype-dev libjpeg-dev zlib1g-dev \
	libutf8proc-dev libjson-c-dev libcurl4-openssl-dev libsqlite3-dev \
	libfaiss-dev libopenblas-dev g++ jq man-db
# ... and what the tests need besides (make check, make deps).
TEST_PKGS = mupdf-tools bats bats-assert bats-support bats-file python3 valgrind openssl parallel \
	time procps sqlite3 clang libclang-rt-dev bsdutils util-linux
DEB_PKGS = $(DEMO_PKGS) $(TEST_PKGS)

# Debian packages only the benchmarks need.
BENCH_PKGS = opencc python3-faiss python3-numpy sqlite3

PROGS     = rag-split rag-embed rag-index rag-query
PROGS    += rag-answer

COMMON_SRC = $(wildcard common/*.c)
COMMON_CXX = $(wildcard common/*.cpp)
COMMON_OBJ = $(COMMON_SRC:common/%.c=$(BUILD)/common/%.o) $(COMMON_CXX:common/%.cpp=$(BUILD)/common/%.o)
LIB        = $(BUILD)/libragpipe.a

UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Measuring tools of bench/, built by `make bench`.
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Small programs the bats tests drive common/ with.
TOOL_SRC  = $(wildcard tests/tools/*.c)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

.PHONY: bench-deps all deps demo-deps manpath check unit bats demo bench install uninstall clean fuzz fuzz-build

all: $(PROGS:%=$(BIN)/%)

$(BUILD)/common/%.o: common/%.c common/*.h | $(BUILD)/common
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# Debian's libfaiss-dev has the C API's headers but not its code: common/faiss_c.cpp.
$(BUILD)/common/%.o: common/%.cpp common/*.h | $(BUILD)/common
	$(CXX) -std=c++17 $(CXXFLAGS_BASE) $(CFLAGS) $(WARN) -Icommon -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c common/*.h | $(BUILD)/cmd
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/rag-split: $(BUILD)/cmd/rag-split.o $(LIB) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(MUPDF_LIBS) $(BASE_LIBS)

$(BIN)/rag-embed: $(BUILD)/cmd/rag-embed.o $(LIB) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(BASE_LIBS)

$(BIN)/rag-index: $(BUILD)/cmd/rag-index.o $(LIB) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(BASE_LIBS) $(FAISS_LIBS)

$(BIN)/rag-query: $(BUILD)/cmd/rag-query.o $(LIB) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(BASE_LIBS) $(FAISS_LIBS)

$(BIN)/rag-answer: $(BUILD)/cmd/rag-answer.o $(LIB) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(BASE_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -Itests/unit -o $@ $< $(LIB) $(MUPDF_LIBS) $(BASE_LIBS) $(FAISS_LIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIB) | $(BUILD)/tests/tools
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(LIB) $(BASE_LIBS)

$(BUILD)/bench/%: bench/%.c $(LIB) | $(BUILD)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(LIB) $(BASE_LIBS) $(FAISS_LIBS)

$(BUILD)/common $(BUILD)/cmd $(BUILD)/tests $(BUILD)/tests/tools $(BUILD)/bench $(BIN):
	mkdir -p $@

# A binary built with sanitizers must not be mistaken for the release one, and
# the tests run whatever is in bin/: always relink when SANITIZE changes.
$(BIN)/.flavour: FORCE | $(BIN)
	@echo '$(BUILD)' | cmp -s - $@ || echo '$(BUILD)' > $@
$(PROGS:%=$(BIN)/%): $(BIN)/.flavour
.PHONY: FORCE
FORCE:

# install_missing PACKAGES: apt-get what is not installed yet.
define install_missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	echo "deps: installing:" $$missing; \
	if [ "$$(id -u)" -ne 0 ]; then \
		if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else \
			echo "deps: not root; run as root: apt-get update && apt-get install -y $$missing" >&2; exit 1; fi; \
	fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing
endef

deps:
	$(call install_missing,$(DEB_PKGS))

demo-deps:
	$(call install_missing,$(DEMO_PKGS))

# What the benchmarks compare against (python3 + numpy + faiss) and use.
bench-deps: deps
	$(call install_missing,$(BENCH_PKGS))

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do $$t || true; done

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TOOL_BIN)
	@sh tests/run.sh $(UNIT_BIN)

demo: demo-deps
	@$(MAKE) --no-print-directory all manpath
	@sh tests/demo.sh

# man/ as a manual path (build/man/man1, man7), so that MANPATH finds the
# pages without make install
manpath:
	@mkdir -p build/man/man1 build/man/man7
	@for f in man/*.1; do ln -sf "../../../$$f" build/man/man1/; done
	@for f in man/*.7; do ln -sf "../../../$$f" build/man/man7/; done

bench: bench-deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@sh bench/run.sh

# make fuzz FUZZ_SECONDS=N: the libFuzzer targets of tests/fuzz/ (clang,
# ASan+UBSan, build/fuzz), each run N seconds; see tests/fuzz/README.
FUZZ_SECONDS ?= 60
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build BUILD=build/fuzz SANITIZE= CC=clang CXX=clang++ CFLAGS="$(FUZZ_FLAGS)"
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) build/fuzz $(FUZZ)

fuzz-build: $(FUZZ_BIN)

# linked by clang++: faiss_c.cpp's UBSan checks need its C++ runtime
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB) | $(BUILD)/fuzz
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@.o $<
	$(CXX) $(CFLAGS) -fsanitize=fuzzer -o $@ $@.o $(LIB) $(MUPDF_LIBS) $(BASE_LIBS) $(FAISS_LIBS)

$(BUILD)/fuzz:
	mkdir -p $@

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PROGS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)/
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -d $(DESTDIR)$(DOCDIR)/examples/cron
	install -m 644 examples/Makefile $(DESTDIR)$(DOCDIR)/examples/
	install -m 755 examples/cron/nightly $(DESTDIR)$(DOCDIR)/examples/cron/

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(PROGS:%=$(DESTDIR)$(MANDIR)/man1/%.1) $(DESTDIR)$(MANDIR)/man7/ragpipe.7
	rm -rf $(DESTDIR)$(DOCDIR)/examples

clean:
	rm -rf build bin demo-kb
