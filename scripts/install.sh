#!/usr/bin/env bash
# Installs webc-host and its runner plugins into a prefix (`cargo install` alone cannot
# install plugin libraries):
#
#   PREFIX/libexec/webc-host/webc-host             the binary
#   PREFIX/libexec/webc-host/plugins/*.so          every shipped runner plugin
#   PREFIX/bin/webc-host -> ../libexec/webc-host/webc-host
#
# The host looks for plugins in `<its own directory>/plugins` (the symlink is resolved), so
# the installed binary finds them without configuration.
#
# Usage: scripts/install.sh [--prefix DIR] [--debug]      (default prefix: ~/.local, release build)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${HOME}/.local"
profile=release
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --debug) profile=debug; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# Shipped plugins: every `webc-runner-*-plugin` package except the test-only ones.
mapfile -t plugins < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, re, sys
for p in json.load(sys.stdin)["packages"]:
    if re.fullmatch(r"webc-runner-(?!test-).+-plugin", p["name"]):
        print(p["name"])
')

flags=()
[ "$profile" = release ] && flags+=(--release)
args=(-p webc-host)
for p in "${plugins[@]}"; do args+=(-p "$p"); done
cargo build "${flags[@]}" "${args[@]}"

target="${CARGO_TARGET_DIR:-target}/$profile"
dest="$prefix/libexec/webc-host"
mkdir -p "$dest/plugins" "$prefix/bin"
install -m 0755 "$target/webc-host" "$dest/webc-host"
for p in "${plugins[@]}"; do
    lib="lib$(echo "${p%-plugin}" | tr - _).so"
    install -m 0755 "$target/$lib" "$dest/plugins/$lib"
done
ln -sfn "../libexec/webc-host/webc-host" "$prefix/bin/webc-host"
echo "installed webc-host and ${#plugins[@]} plugin(s) into $prefix (run: $prefix/bin/webc-host runners)"
