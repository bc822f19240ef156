#!/usr/bin/env bash
# Create (or reuse) a virtual environment and install realnet-plugins into it with a REGULAR install
# (Brain-Score discovers plugin folders only in site-packages; an editable install cannot work).
# Usage: scripts/install.sh [VENV_DIR]   (default: .venv in the repository root)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# torch/torchvision first, pinned to the builds this environment provides; brainscore-vision pins numpy<2.
"${pip[@]}" setuptools wheel
"${pip[@]}" torch==2.14.1 torchvision==0.29.1
"${pip[@]}" "brainscore-vision==2.4.2" pytest pytest-check scikit-image
# Optional test oracles (MNE cluster tests, pingouin partial correlations): installed only if they fit the pins.
# Everything already installed stays at its version (a constraints file of the current set).
pins="$(mktemp)"
"$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -v -e '^-e ' -e ' @ ' > "$pins"
"${pip[@]}" -c "$pins" mne pingouin || echo "note: mne/pingouin not installed; their oracle tests will be skipped"
# rsatoolbox, the RSA test oracle and the crossnobis 'rsatoolbox' back end (extra 'rsa'): required (its tests
# fail without it, never skip). 0.3.x needs scikit-learn >= 1.6 at import, which Brain-Score's pins exclude.
"${pip[@]}" -c "$pins" "rsatoolbox>=0.2,<0.3"
rm -f "$pins"
# The package itself (with its `cluster` extra: submitit, for --executor local|slurm) and the test-only
# plugins: regular (non-editable) installs. setuptools builds in ./build and never removes files from it:
# clear it so that a moved or deleted module is not installed.
rm -rf "$root/build" "$root/tests/bs_test_plugin/build"
"${pip[@]}" --no-build-isolation "$root[cluster]" "$root/tests/bs_test_plugin"
# Compile the decoding kernels once now (numba caches them next to the installed module), so that
# the first decoding RDM of the demo, the tests or a user does not wait for the compiler.
(cd / && "$venv/bin/python" -c "import numpy as np
from realnet_plugins.rsa import decoding_rdm
decoding_rdm(np.random.default_rng(0).standard_normal((3, 10, 2, 1)), progress=False)") \
  || echo "note: the decoding kernels were not precompiled; the first decoding run compiles them"
echo "installed realnet-plugins into $venv"
