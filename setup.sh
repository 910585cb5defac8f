#!/usr/bin/env bash
# Set up dlgrade in ./.venv: Python 3.11, direct dependencies pinned in pyproject.toml, everything
# they pull in pinned by constraints.txt.
# Safe to rerun: an up-to-date environment is left as it is.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=.venv/.dlgrade-installed
# The maintainers' repository (it has tests/) also gets the linter and the type checker .ci/run uses.
extras=""
[ -d tests ] && extras="[dev]"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  # torch 2.14.1 is a large CUDA build (~5.5 GB installed); it runs on CPU-only machines too.
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".$extras"
  touch "$stamp"
fi
# `dlgrade grade` runs every submission in a bubblewrap sandbox and refuses to grade without one.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } \
      || echo "note: could not install bubblewrap; dlgrade grade will refuse to grade without it" >&2
  else
    echo "note: install bubblewrap (sudo apt-get install bubblewrap) before grading a class with dlgrade grade" >&2
  fi
fi
