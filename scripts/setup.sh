#!/usr/bin/env bash
# Idempotent set-up: Python venv with the package, the npm tools, Debian's chromium and wrk.
# Each step is skipped when its inputs have not changed since it last succeeded (stamp files).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV=.venv
STAMPS=$VENV/.stamps

say() { printf 'setup: %s\n' "$*"; }

digest() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# 1. Python: the package (editable) with its dev extra.
if [[ ! -x $VENV/bin/python ]]; then
  say "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
mkdir -p "$STAMPS"
py_key=$(digest pyproject.toml)
if [[ $(cat "$STAMPS/python" 2>/dev/null) != "$py_key" || ! -x $VENV/bin/neuropay ]]; then
  say "installing Python dependencies"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -m pip install --quiet -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/neuropay" --version >/dev/null
  echo "$py_key" >"$STAMPS/python"
else
  say "Python dependencies up to date"
fi

# 2. Node tools (Spectral, Newman, Prism, Redocly, openapi-to-postmanv2), pinned by package-lock.json.
npm_key=$(digest package.json package-lock.json)
if [[ $(cat "$STAMPS/npm" 2>/dev/null) != "$npm_key" || ! -d node_modules/.bin ]]; then
  command -v npm >/dev/null 2>&1 || { say "npm is missing: install Node.js 20"; exit 2; }
  say "installing npm tools"
  npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config' || true
  for tool in spectral newman prism redocly openapi2postmanv2; do
    [[ -x node_modules/.bin/$tool ]] || { say "npm tool $tool did not install"; exit 2; }
  done
  echo "$npm_key" >"$STAMPS/npm"
else
  say "npm tools up to date"
fi

# 3. Debian packages: chromium for browser tests, wrk for the server benchmark, postgresql for
#    the shared-sandbox tests and benchmark (they start their own server in a temporary folder).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages ${missing[*]}: run as root or 'sudo apt-get install ${missing[*]}'"
    exit 2
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [[ " ${missing[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
    # No system cluster (nor a server left running on port 5432): the tests bring their own.
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "chromium, wrk and postgresql present"
fi
