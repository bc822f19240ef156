#!/usr/bin/env bash
# Install (regular install into .venv, idempotent) and run the whole test suite on CPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${REALNET_VENV:-$root/.venv}"
"$root/scripts/install.sh" "$venv"
cd "$root"
export BS_INSTALL_DEPENDENCIES=no
# pytest (not `python -m pytest`), so tests import the INSTALLED package, not the checkout.
exec "$venv/bin/pytest" -q -p no:cacheprovider tests "$@"
