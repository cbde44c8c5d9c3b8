# One entry point for everything: each target makes its own virtualenv and builds the
# extension first. Cargo's build directory lives outside the clone so rebuilds stay
# incremental across clones; a fresh machine builds from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TARGET_ROOT ?= $(HOME)/.cache/polars-zones/target
STAMP := $(VENV)/.maturin-installed

.PHONY: build wheel test test-rust test-python lint demo bench fuzz clean

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "maturin>=1.9,<2"
	touch $(STAMP)

# The extension (release) plus the runtime, test and benchmark dependencies of pyproject.toml.
build: $(STAMP)
	VIRTUAL_ENV=$(abspath $(VENV)) CARGO_TARGET_DIR=$(TARGET_ROOT)/maturin \
		$(VENV)/bin/maturin develop --release --features testing --extras test,bench,ray

# The release wheel (abi3: one wheel for CPython 3.9+; manylinux, the lowest tag its symbols
# allow) in dist/, without the `testing` feature. Cargo's build directory is build's, so the
# compiled dependencies are reused.
wheel: $(STAMP)
	rm -f dist/polars_zones-*.whl
	CARGO_TARGET_DIR=$(TARGET_ROOT)/maturin $(VENV)/bin/maturin build --release --strip --out dist

# The Rust core without Python or Polars: ingest, index, kernel, serialization.
test-rust:
	CARGO_TARGET_DIR=$(TARGET_ROOT)/core cargo test --release --no-default-features

# tests/test_wheel.py (marked slow) installs the wheel into a fresh virtualenv.
test-python: build wheel
	$(PY) -m pytest

test: test-rust test-python

# Formatting and lints: rustfmt and clippy (warnings are errors; the testing feature and the
# tests included) for the crate, ruff and mypy --strict for the Python package. ruff and mypy
# come from the `dev` extra, installed with the package's dependencies, whose types mypy reads,
# without building the extension (the compiled module's types are polars_zones/_internal.pyi).
# clippy checks in build's target directory, so its compiled dependencies are shared.
lint: $(STAMP)
	$(PY) -c "import tomllib" 2>/dev/null || $(PY) -m pip install --quiet tomli
	$(PY) scripts/requirements.py dev | $(PY) -m pip install --quiet -r /dev/stdin
	cargo fmt --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict polars_zones
	CARGO_TARGET_DIR=$(TARGET_ROOT)/maturin cargo clippy --all-targets --features testing -- -D warnings

demo: build
	$(VENV)/bin/polars-zones demo --png demo/polars-zones-demo.png

# Peers side by side (tag; distance and nearest), then the per-batch and per-collect cost of carrying the index in a plan.
bench: build
	$(PY) bench/run.py
	$(PY) bench/distance.py
	$(PY) bench/streaming_batches.py
	$(PY) bench/query_overhead.py
	$(PY) bench/tag_breakdown.py
	$(PY) bench/bounded_memory.py
	$(PY) bench/ray_scaling.py
	$(PY) bench/scale_limits.py
	$(PY) bench/validate_scaling.py
	$(PY) bench/leaf_sweep.py
	$(PY) bench/leaf_records.py
	$(PY) bench/block_size.py
	$(PY) bench/kernel_instructions.py
	$(PY) bench/tag_all_cost.py
	$(PY) bench/visits.py

# The fuzz tests for minutes instead of the 2 s they get in make test (FUZZ_SECONDS each;
# FUZZ_SEED picks another sequence), then the Python ones with many more examples.
FUZZ_SECONDS ?= 300
fuzz: build
	FUZZ_SECONDS=$(FUZZ_SECONDS) CARGO_TARGET_DIR=$(TARGET_ROOT)/core \
		cargo test --release --no-default-features fuzz_ -- --nocapture
	FUZZ_EXAMPLES=100000 $(PY) -m pytest -q --durations=0 tests/test_fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis dist
