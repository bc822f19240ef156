#!/usr/bin/env bash
# Install, then run the whole pipeline on a generated miniature world (after the install: about 4 min on 2 idle CPU cores, 1.6 GB).
# Everything is written under ./realnet-demo (its own $REALNET_HOME: your checkpoints are never touched).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${REALNET_VENV:-$root/.venv}"
"$root/scripts/install.sh" "$venv"
export BS_INSTALL_DEPENDENCIES=no
exec "$venv/bin/realnet" demo --out "${1:-$PWD/realnet-demo}"
