# Sourced by tools/setup and tools/upgrade: puts a uv of exactly the version (and file
# hashes) in tools/uv-requirements.txt on PATH, installed once per version into
# ~/.cache/tandem, outside the project's .venv so that `uv sync` never removes itself.

uv_bootstrap() {
  local root=$1 python=$2 version dir
  version=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$root/tools/uv-requirements.txt")
  [ -n "$version" ] || { echo "tools/uv-requirements.txt names no uv version" >&2; return 1; }
  dir=${TANDEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}/uv-$version
  if [ ! -x "$dir/bin/uv" ]; then
    echo "installing uv $version into $dir" >&2
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --no-deps --require-hashes \
      -r "$root/tools/uv-requirements.txt"
  fi
  export PATH="$dir/bin:$PATH"
  # uv verifies TLS with the system's store, like pip here, not only its bundled roots.
  export UV_SYSTEM_CERTS=1
  # The project's environment is .venv, on the interpreter tools/setup checked.
  export UV_PROJECT_ENVIRONMENT="$root/.venv" UV_PYTHON="$python" UV_PYTHON_DOWNLOADS=never
}
