# Sourced by scripts/env.sh: builds the designer (designer/) into backend/procedo/web/,
# which `procedo serve` serves at / and the wheel ships. Cheap when nothing changed:
# `npm ci` runs only when node_modules is missing or package-lock.json changed, and
# `npm run build` only when a source file changed (both checked by a hash stamp).
designer_build() {
  local root designer web stamp_dir lock_hash src_hash
  root="$PWD"
  designer="$root/designer"
  web="$root/backend/procedo/web"
  stamp_dir="$designer/node_modules/.procedo"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "error: the designer needs Node.js (>= 20.19) and npm on PATH to build designer/;" >&2
    echo "       install them (e.g. apt-get install nodejs npm, or from nodejs.org) and run again." >&2
    return 1
  fi
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "error: the designer needs Node.js >= 20.19, found $(node --version); upgrade Node.js and run again." >&2
    return 1
  fi
  lock_hash="$(sha256sum "$designer/package-lock.json" | cut -d' ' -f1)"
  if [ ! -d "$designer/node_modules" ] || [ "$(cat "$stamp_dir/lock" 2>/dev/null)" != "$lock_hash" ]; then
    echo "==> installing the designer's packages (npm ci)"
    (cd "$designer" && npm ci --no-audit --no-fund --loglevel=error)
    mkdir -p "$stamp_dir"
    echo "$lock_hash" >"$stamp_dir/lock"
  fi
  src_hash="$(cd "$root" && find designer/src designer/scripts designer/index.html designer/vite.config.ts \
      designer/tsconfig.json designer/package.json \
      designer/package-lock.json docs/flow.schema.json -type f -print0 2>/dev/null \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$web/index.html" ] || [ "$(cat "$stamp_dir/build" 2>/dev/null)" != "$src_hash" ]; then
    echo "==> building the designer (npm run build -> backend/procedo/web/)"
    (cd "$designer" && npm run build --silent)
    mkdir -p "$stamp_dir"
    echo "$src_hash" >"$stamp_dir/build"
  fi
}
designer_build
