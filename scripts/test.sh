#!/usr/bin/env bash
# The project's test command (README "Quick start", step 2; CI runs it too).
# Installs what the tests need, then runs the whole workspace's tests in the dev profile.
# Extra arguments go to `cargo test`, e.g. `./scripts/test.sh -p webc-host`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust 1.95 (https://rustup.rs) and retry" >&2
    exit 1
fi

# The WASI test programs are committed as .wasm next to their C sources
# (scripts/build-wasi-tests.sh rebuilds them with Debian's clang + wasi-libc and records their
# checksums), so no C toolchain is needed. What runners need from outside Rust is installed
# here, idempotently, so this stays the one command to run the tests.

# ONNX Runtime for the ONNX runner's ort backend (a symlink into the pinned onnxruntime wheel in
# the venv target/py: needs python3, pip and PyPI the first time; quick and offline afterwards).
# Without it the ort conformance tests are skipped — except under CI, where they fail.
if ! scripts/install-onnxruntime.sh >/dev/null; then
    if [ -n "${CI:-}" ]; then
        echo "error: scripts/install-onnxruntime.sh failed (CI is set: the ort backend must be tested)" >&2
        exit 1
    fi
    echo "warning: scripts/install-onnxruntime.sh failed; the ort backend's tests will be skipped" >&2
fi

# The POSIX sandbox's module tests build their guest program at test time with musl-gcc
# (Debian's musl-tools; `gcc -static` is the fallback). Installed here when missing and this
# is a Debian machine we may install on; the committed test programs need no compiler.
if ! command -v musl-gcc >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q musl-tools >/dev/null 2>&1 ||
        echo "warning: could not install musl-tools; the sandbox tests fall back to gcc -static" >&2
fi

# Runner plugins are loaded from target/<profile>/ by the end-to-end tests (a missing plugin
# fails them): the test-only echo runner, WASI and the two ONNX runners. They are built as part of the
# whole workspace with every target, so features resolve exactly as for `cargo test
# --workspace` below (`cargo build -p <plugin>` alone would resolve fewer features of shared
# dependencies such as rustix, and wasmtime would be compiled twice).
cargo build --workspace --all-targets
exec cargo test --workspace "$@"
