#!/usr/bin/env bash
# Runs the Python end-to-end tests (pyarrow.flight, DuckDB, Polars, PyTorch) against the real
# server jar. Called by Maven (integration-tests, phase integration-test); runnable by hand:
#   integration-tests/python/run-pytest.sh [pytest args]
# The venv is made once in integration-tests/target/venv and reused while requirements.txt is
# unchanged. Nothing is skipped for a missing dependency: anything missing fails the run here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
module="$(dirname "$here")"
venv="${ANNFLIGHT_VENV:-$module/target/venv}"
system_python=/usr/bin/python3
requirements="$here/requirements.txt"

fail() { echo "run-pytest: ERROR: $*" >&2; exit 1; }

[ -x "$system_python" ] || fail "$system_python not found (Debian's python3 is needed: apt-get install python3 python3-venv)"
"$system_python" -c 'import anndata' 2>/dev/null \
  || fail "Debian's anndata is missing (expected values come from it): apt-get install python3-anndata python3-zarr python3-h5py"

stamp="$venv/.annflight-requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "run-pytest: creating $venv (system site packages + $(grep -v '^#' "$requirements" | xargs))"
  start=$(date +%s)
  rm -rf "$venv"
  "$system_python" -m venv --system-site-packages "$venv" \
    || fail "could not create a venv: apt-get install python3-venv"
  # The local wheelhouse: /opt/pypi/simple, and /opt/wheels for torch (CPU build).
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
      --index-url file:///opt/pypi/simple --find-links /opt/wheels -r "$requirements" \
      2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; then
    missing=""
    for pkg in $(grep -v '^#' "$requirements"); do
      "$venv/bin/python" -c "import $pkg" 2>/dev/null || missing="$missing $pkg"
    done
    fail "pip could not install:${missing:- (see the pip output above)} (index file:///opt/pypi/simple, find-links /opt/wheels)"
  fi
  cp "$requirements" "$stamp"
  echo "run-pytest: venv ready in $(( $(date +%s) - start )) s"
else
  echo "run-pytest: reusing $venv"
fi

# The project's own Python package, as a user installs it (pip install ./python); built with
# the venv's hatchling, so nothing is fetched.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --force-reinstall "$(dirname "$module")/python" \
  || fail "pip could not install the annflight package from $(dirname "$module")/python"

# Every client must import, and anndata must come from Debian's packages through the venv.
"$venv/bin/python" - <<'PY' || fail "a required package does not import in $venv (see above); delete the venv to rebuild it"
import importlib, sys
missing = []
for name in ("pyarrow", "pyarrow.flight", "duckdb", "polars", "torch", "pytest", "numpy", "pandas",
             "tqdm", "annflight", "lightning"):
    try:
        importlib.import_module(name)
    except Exception as e:  # report every one, not just the first
        missing.append(f"{name} ({e})")
try:
    import anndata  # noqa: F401
except Exception as e:
    missing.append(f"anndata ({e}): apt-get install python3-anndata")
if missing:
    print("run-pytest: cannot import: " + "; ".join(missing), file=sys.stderr)
    sys.exit(1)
PY

cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -ra "$@"
