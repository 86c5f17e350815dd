# teachkit: `make course` to learn, `make test` to check.   (`make help` lists the rest)
SHELL := /bin/bash
.DEFAULT_GOAL := course

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# The setup stamp is keyed on pyproject.toml's content: a changed dependency list reinstalls.
STAMP := $(VENV)/.teachkit-setup-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: course test setup lab demo doctor help clean

help:
	@echo "make course   set up (first time: a few minutes), then open JupyterLab on notebooks/"
	@echo "              (no display, HEADLESS=1 or CI set: run the headless demo instead)"
	@echo "make test     set up, install Chromium and Java (browser tests, Spark comparison), run pytest (PYTEST_ARGS=...)"
	@echo "make lab      open JupyterLab on notebooks/ (127.0.0.1 only)"
	@echo "make demo     run the headless demo into demo-output/"
	@echo "make doctor   check Python, packages, Graphviz, the kernel and a 2-worker cluster"
	@echo "make clean    remove generated outputs (keeps $(VENV))"

course: setup
	@if [ "$${HEADLESS:-}" = 1 ] || [ -n "$${CI:-}" ] || \
	    { [ "$$(uname -s)" = Linux ] && [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ] && [ "$${HEADLESS:-}" != 0 ]; }; then \
	    echo "No display here (or HEADLESS=1/CI set): running the headless demo instead of JupyterLab."; \
	    echo "Use HEADLESS=0 make course to open JupyterLab anyway."; \
	    $(MAKE) --no-print-directory demo; \
	else \
	    $(MAKE) --no-print-directory lab; \
	fi

test: setup
	@scripts/system-deps.sh chromium java
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The lab is rooted at the repository: the lessons (notebooks/) and the exercises (exercises/) side by side
# in the file browser, the first lesson open; solutions/ and the code folders stay in the repository for
# instructors but are hidden from the file browser (ContentsManager.hide_globs; the first five are its defaults).
lab: setup
	@echo "Opening JupyterLab: lessons in notebooks/, exercises in exercises/ (127.0.0.1 only; Ctrl-C twice to stop)."
	@start=notebooks; [ -f notebooks/00_start_here.ipynb ] && start=notebooks/00_start_here.ipynb; \
	$(BIN)/jupyter lab --ip=127.0.0.1 --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/$$start \
	    $(foreach glob,__pycache__ *.pyc *.pyo .DS_Store *~ solutions teachkit tests tools benchmarks scripts \
	        *.egg-info build demo-output dask-scratch-space test-artifacts Makefile pyproject.toml environment.yml,\
	        --ContentsManager.hide_globs='$(glob)') \
	    $$([ "$$(id -u)" = 0 ] && echo --allow-root)

demo: setup
	$(BIN)/teachkit demo --out demo-output

doctor: setup
	$(BIN)/teachkit doctor

# Python side once per pyproject.toml version; system programs checked every time (fast).
setup: $(STAMP)
	@scripts/system-deps.sh dot

$(STAMP):
	@if [ ! -x $(BIN)/python ]; then \
	    $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	        echo "teachkit needs Python >= 3.10; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing)."; \
	        echo "Install a newer Python and run: make course PYTHON=python3.11"; exit 1; }; \
	    echo "Creating $(VENV) with $$($(PYTHON) --version)"; \
	    $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV) (Debian/Ubuntu: sudo apt-get install -y python3-venv)"; exit 1; }; \
	fi
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	    echo "$(VENV) has $$($(BIN)/python --version); teachkit needs >= 3.10: delete $(VENV) and rerun with PYTHON=python3.11"; exit 1; }
	@echo "Installing teachkit and its dependencies into $(VENV) (the first time takes a few minutes)..."
	@$(BIN)/python -m pip install --disable-pip-version-check -q -e ".[test]"
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (teachkit)" >/dev/null
	@rm -f $(VENV)/.teachkit-setup-*
	@touch $@
	@echo "Installed. (Check anytime with: make doctor)"

clean:
	rm -rf demo-output test-artifacts dask-scratch-space .pytest_cache site
