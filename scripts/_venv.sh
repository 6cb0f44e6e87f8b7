# Sourced by scripts/serve and scripts/test: make .venv and install the project once per
# change of pyproject.toml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv ..." >&2
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools \
    2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "installing wxmember and its dependencies into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  .venv/bin/python -c "import wxmember, wechatpy, mongomock, secantus" # fail here if the install did
  rm -f .venv/.installed-*
  touch "$stamp"
fi
