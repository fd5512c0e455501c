# Sourced by scripts/run and scripts/test: finds or installs uv, then makes .venv
# match uv.lock exactly. Needs only python3 (>= 3.11) on the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never   # use the machine's Python; never fetch one
if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  if [ ! -x .tools/bin/uv ]; then
    echo "==> installing uv into .tools/"
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
  fi
  UV="$PWD/.tools/bin/uv"
fi
echo "==> syncing .venv with uv.lock"
"$UV" sync --locked --quiet
export PATH="$PWD/.venv/bin:$PATH"
# The web designer: npm ci / npm run build when needed (scripts/designer.sh).
source "$PWD/scripts/designer.sh"   # env.sh has cd-ed to the repository root
