#!/usr/bin/env bash
# Set up what `make run` and `make test` need: Debian packages, .venv, a running PostGIS database.
# Usage: scripts/setup.sh packages [test] | venv [test] | database NAME
# Re-running is fast: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else log "need root for: $*"; exit 1; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

pg_major() {
  if command -v pg_lsclusters >/dev/null && [ -n "$(pg_lsclusters -h 2>/dev/null | head -n1)" ]; then
    pg_lsclusters -h | awk 'NR==1 {print $1}'
  elif ls /usr/lib/postgresql >/dev/null 2>&1 && [ -n "$(ls /usr/lib/postgresql)" ]; then
    ls /usr/lib/postgresql | sort -n | tail -n1
  else
    echo 15
  fi
}

packages() {
  local major; major=$(pg_major)
  local wanted=("postgresql-client-$major" "gdal-bin" "python3-venv")
  # A local server only when no DATABASE_URL says where the database is (tests always use a local one).
  if [ -z "${DATABASE_URL:-}" ] || [ "${1:-}" = test ]; then
    wanted+=("postgresql-$major" "postgresql-$major-postgis-3")
  fi
  # poppler-utils: pdftotext reads the text of /print saved as PDF in the tests.
  if [ "${1:-}" = test ]; then wanted+=("chromium" "fonts-noto-cjk" "poppler-utils"); fi
  local missing=()
  for pkg in "${wanted[@]}"; do installed "$pkg" || missing+=("$pkg"); done
  if [ ${#missing[@]} -eq 0 ]; then log "Debian packages present"; return; fi
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

venv() {
  local python=${PYTHON:-python3.11}
  command -v "$python" >/dev/null || python=python3
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $python"
    "$python" -m venv .venv
  fi
  local extra="" stamp=.venv/.stamp-install
  if [ "${1:-}" = test ]; then extra="[test]"; stamp=.venv/.stamp-install-test; fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log "installing the project into .venv ${extra}"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${extra}"
    touch "$stamp"
  else
    log ".venv is up to date"
  fi
}

start_local_server() {
  if pg_isready -q -h 127.0.0.1 -p 5432; then return; fi
  local major; major=$(pg_major)
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    log "creating PostgreSQL cluster $major/main"
    as_root pg_createcluster "$major" main >/dev/null
  fi
  local cluster; cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
  log "starting PostgreSQL cluster $cluster"
  # shellcheck disable=SC2086
  as_root pg_ctlcluster --skip-systemctl-redirect $cluster start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  log "PostgreSQL did not start; see /var/log/postgresql/"; exit 1
}

# Print the DATABASE_URL of a local database NAME, creating it if needed.
database() {
  local name=$1
  start_local_server
  local url="postgresql://postgres@127.0.0.1:5432/$name"
  if ! psql -X -q "postgresql://postgres@127.0.0.1:5432/postgres" -c 'select 1' >/dev/null 2>&1; then
    # No trust on TCP: use the Unix socket as a role named after this OS user.
    local me; me=$(id -un)
    as_root runuser -u postgres -- psql -X -q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$me') THEN CREATE ROLE \"$me\" LOGIN SUPERUSER; END IF; END\$\$" >/dev/null
    url="postgresql://$me@/$name?host=/var/run/postgresql"
  fi
  local admin=${url/\/$name/\/postgres}
  if [ "$(psql -X -tA "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]; then
    log "creating database $name"
    psql -X -q "$admin" -c "CREATE DATABASE \"$name\"" >/dev/null
  fi
  echo "$url"
}

case "${1:-}" in
  packages) shift; packages "$@" ;;
  venv) shift; venv "$@" ;;
  database) shift; database "$@" ;;
  *) echo "usage: $0 packages [test] | venv [test] | database NAME" >&2; exit 2 ;;
esac
