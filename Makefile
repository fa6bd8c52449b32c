# The two set-up commands of the README: `make run` (install and launch) and `make test`
# (install and run the whole suite). Both create .venv on first use and update it when
# pyproject.toml or constraints.txt change.
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: run test bench fuzz

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tui-trainer $(ARGS)

# Three test processes on two cores (pytest-xdist): tests spend part of their time waiting (on
# subprocesses, on the app's timers), which a third process fills; worksteal keeps every process
# busy to the end instead of one finishing a long tail alone.
#
# The package is compiled to bytecode first: the suite starts about 60 Python processes (the CLI,
# torchrun's ranks, exported scripts), and where PYTHONDONTWRITEBYTECODE is set (as on these
# machines) each of them compiled every module of the package again (about 0.3 s of CPU each).
test: $(STAMP)
	$(VENV)/bin/python -m compileall -q tui_trainer
	$(VENV)/bin/python -m pytest -q -n 3 --dist worksteal $(PYTEST_ARGS)

# The fuzz suite of the normal run (tests/fuzz), with many more cases: prints how many were
# tried and how many failed. FUZZ_EXAMPLES cases per CLI property (5 properties), and
# FUZZ_EXAMPLES / 60 sequences of the app's monkey test (about half a minute each).
FUZZ_EXAMPLES ?= 1200
fuzz: $(STAMP)
	TUI_TRAINER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/fuzz

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_engine.py
	$(VENV)/bin/python benchmarks/bench_app.py
	$(VENV)/bin/python benchmarks/bench_watch.py
