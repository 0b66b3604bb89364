# ML system design, hands-on — the two commands a learner needs are `make lab` and `make test`.
PYTHON ?= python3
# OpenMP threads (LightGBM, scikit-learn) sleep instead of spinning while they wait: on a busy
# 2-core machine spinning made one LightGBM fit 10x slower. Inherited by kernels and JupyterLab.
export OMP_WAIT_POLICY ?= PASSIVE
VENV   := .venv
BIN    := $(VENV)/bin
# The one test command (the README quotes it; .ci/run calls it).
PYTEST_ARGS := -n 2 --dist loadfile --nbval --nbval-current-env \
               --nbval-sanitize-with tests/nbval_sanitize.cfg --durations=25 --ignore=tests/claims tests notebooks
# The claims tier and the knob sweep re-execute notebooks with injected parameters (tests/claims/).
CLAIMS_ARGS := -n 2 --dist load -p no:cacheprovider --durations=15

.PHONY: lab test check claims knobs execute lint bench nav kit site clean help

help:
	@echo "make lab      open the course in JupyterLab (creates .venv on first use)"
	@echo "make test     unit, hygiene and browser tests + strict nbval on every notebook"
	@echo "make check    like test, but --nbval-lax: runs every notebook and its scorecard asserts,"
	@echo "              compares no stored output (macOS/ARM, Windows: last digits may differ)"
	@echo "make claims   every scorecard claim at seeds 1-3 (CI runs it after make test)"
	@echo "make knobs    Run All with each knob at each end of its documented range"
	@echo "make execute  build each notebook from its .py source and execute it (NOTEBOOKS=...)"
	@echo "make lint     ruff on utils/, tests/ and the notebooks"
	@echo "make bench    per-notebook wall time and peak memory, plus world/serving benchmarks"
	@echo "make nav      rewrite the navigation lines of every notebook"
	@echo "make kit      workshop kit: handouts (HTML + PDF), room kit, TA answer key -> build/kit/"
	@echo "make site     the course as a static website (no kernel, no network) -> build/site/"

# The stamp files make a second call install nothing; they depend on the pin files,
# so changing a pin reinstalls.
$(VENV)/.stamp-lab: requirements.txt requirements-nodeps.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-lab requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

# Bound to 127.0.0.1; token authentication stays on (Jupyter generates a random token and
# prints the URL that carries it). --allow-root only when running as root.
lab: $(VENV)/.stamp-lab
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir="$(CURDIR)" \
	  --LabApp.default_url=/lab/tree/notebooks/00_course_map.ipynb \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS)

test: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest $(subst --nbval ,--nbval-lax ,$(PYTEST_ARGS))

claims: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest $(CLAIMS_ARGS) tests/claims/test_claims.py $(CLAIMS_K)

knobs: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest $(CLAIMS_ARGS) tests/claims/test_knobs.py $(CLAIMS_K)

execute: $(VENV)/.stamp-lab
	$(BIN)/python tests/tools/execute.py $(NOTEBOOKS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check utils tests notebooks tools

bench: $(VENV)/.stamp-dev
	$(BIN)/python tests/benchmarks/run.py

nav: $(VENV)/.stamp-lab
	$(BIN)/python -m utils.course --nav

# Workshop kit and website (tools/kit.py, tools/site.py); both read the executed notebooks.
kit: $(VENV)/.stamp-dev
	$(BIN)/python tools/kit.py

site: kit
	$(BIN)/python tools/site.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
