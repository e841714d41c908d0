# Two commands do all the set-up on a fresh machine: `make run` (install, then the mission command on
# the synthetic world) and `make test` (install, then the test suite). torch is pinned to the CPU
# wheel and installed first, so that pip never resolves a newer, CUDA-sized torch.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-browser run test test-slow test-kernels check clean

$(BIN)/avtbench: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[test]"
	touch $@

install: $(BIN)/avtbench

run: install
	$(BIN)/avtbench run --method unified_vq --task avvp --direction v2a
	$(BIN)/avtbench table

test: install
	$(BIN)/pytest

test-slow: install
	$(BIN)/pytest -m slow

# optional: Chromium for the slow suite's browser test of `avtbench report` (tests/test_report_browser.py,
# skipped where it is absent): Debian's package `chromium`, installed when missing and run as root; otherwise
# says how (exit 1)
install-browser:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium is installed: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium); \
	else echo "install Chromium for the report's browser test: sudo apt-get install chromium (Debian, Ubuntu)," \
		"or set AVTBENCH_CHROMIUM=/path/to/chromium" >&2; exit 1; fi

# the world-generation tests again under another OpenBLAS CPU kernel than the machine's own (`make test`
# runs them under that one): Haswell on an AVX-512 CPU, Sandybridge on an AVX2 one, Nehalem below
WORLD_TESTS := tests/test_world_everywhere.py tests/test_synth_world.py tests/test_synth_knobs.py \
	tests/test_synth_raw.py tests/test_avs_s4_world.py
OTHER_KERNEL := $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo Haswell || \
	(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo Sandybridge || echo Nehalem))
test-kernels: install
	OPENBLAS_CORETYPE=$(OTHER_KERNEL) $(BIN)/pytest $(WORLD_TESTS)

check: install
	$(BIN)/avtbench check --all

clean:
	rm -rf $(VENV)
