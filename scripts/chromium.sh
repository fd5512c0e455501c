# Sourced by scripts/test: the browser tests (tests/browser/) drive Debian's Chromium at
# /usr/bin/chromium through the playwright package; installed here when missing (as root,
# as on a fresh CI machine). Playwright's own browser download is never used.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" >&2
    echo "      the browser tests will say so (and fail under CI=true)." >&2
  fi
fi
