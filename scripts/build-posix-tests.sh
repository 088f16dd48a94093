#!/usr/bin/env bash
# Builds the POSIX runner's test programs from their C sources (runners/posix/tests/programs)
# and writes the binaries beside them, where they are committed (as the WASI test programs
# are): `probe` static with musl-gcc (Debian's musl-tools), `hello-dyn` dynamically linked
# against glibc with gcc. Run it after changing a source; the tests use the committed files.
set -euo pipefail
cd "$(dirname "$0")/../runners/posix/tests/programs"
command -v musl-gcc >/dev/null || { echo "musl-gcc not found: apt-get install musl-tools" >&2; exit 1; }
musl-gcc -static -Os -s -Wall -Wextra -o probe probe.c
gcc -O2 -s -Wall -Wextra -o hello-dyn hello-dyn.c
ls -l probe hello-dyn
