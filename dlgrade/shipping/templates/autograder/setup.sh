#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image from the Ubuntu base
# image: Python 3.11, bubblewrap (`dlgrade grade` runs each check run in a bwrap sandbox), git,
# the CPU build of torch (the image has no GPU: the CUDA build would be ~5 GB for nothing), then
# the project's own setup.sh: .venv with every other dependency pinned by constraints.txt
# (torch's pin, 2.14.1, is met by the CPU build's 2.14.1+cpu, so it is kept).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends bubblewrap git ca-certificates
# Ubuntu 22.04 has python3.11 in universe; 24.04 has none of its own, the deadsnakes PPA does.
if ! apt-get install -y -q --no-install-recommends python3.11 python3.11-venv; then
  apt-get install -y -q --no-install-recommends software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -q
  apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
fi
cd "$(dirname "$0")/project"
python3.11 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu
PYTHON=python3.11 bash setup.sh
