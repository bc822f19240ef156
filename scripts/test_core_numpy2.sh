#!/usr/bin/env bash
# The core (everything but the Brain-Score bridge, and training) under numpy 2.x, as on a bare GPU box
# (DESIGN.md: correct under numpy 1.26 and 2.x). Brain-Score pins numpy<2, so the main suite
# (scripts/test.sh) runs 1.26; this runs every test that does not need Brain-Score in a second
# environment with the newest numpy, scipy, scikit-learn, xarray and numba the index offers, from the
# source tree (PYTHONPATH=., no install). Not part of CI (it would double CI's time); about 10 minutes.
# Usage: scripts/test_core_numpy2.sh [pytest args]    (venv: $REALNET_NP2_VENV or .venv-numpy2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${REALNET_NP2_VENV:-$root/.venv-numpy2}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" torch==2.14.1 torchvision==0.29.1
"${pip[@]}" "numpy>=2" scipy scikit-learn numba pillow tqdm h5py matplotlib xarray netCDF4 pandas \
  pytest pytest-check scikit-image "rsatoolbox>=0.2,<0.3"
"$venv/bin/python" -c "import numpy; assert int(numpy.__version__.split('.')[0]) >= 2, numpy.__version__; \
print('numpy', numpy.__version__)"
cd "$root"
# Tests that need brainscore_vision (or the installed plugins) are left out.
needs_brainscore=(test_benchmarks.py test_benchmarks_installed.py test_brainscore_models.py test_demo.py
                  test_report_e2e.py test_benchmark_metadata.py test_dataset_recipe.py test_geirhos2021_upstream.py
                  test_score_contract.py test_submission.py test_submission_benchmarks.py test_submission_cli.py
                  test_submission_plugin_files.py test_fetch.py test_executors.py)
ignore=()
for name in "${needs_brainscore[@]}"; do ignore+=(--ignore "tests/$name"); done
PYTHONPATH="$root" exec "$venv/bin/pytest" -q -p no:cacheprovider "${ignore[@]}" tests "$@"
