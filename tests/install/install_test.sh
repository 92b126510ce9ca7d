#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR: what an embedder outside the tree
# does. Installs BUILD_DIR into a temporary prefix, checks what landed there,
# builds examples/c against the installed package with find_package and with
# pkg-config, runs both programs (capture with progress, then restore), and
# runs examples/python against the installed library.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/migstore-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null

fail() { echo "install_test: $*" >&2; exit 1; }
lib=$(find "$prefix" -name 'libmigstore.so.*.*.*' -type f)
[ -n "$lib" ] || fail "no libmigstore.so.X.Y.Z under the prefix"
libdir=$(dirname "$lib")
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libmigstore.so.0" ] || fail "SONAME is '$soname'"
[ -L "$libdir/$soname" ] || fail "no $soname link"
[ -L "$libdir/libmigstore.so" ] || fail "no libmigstore.so link"
[ -f "$prefix/include/migstore/migstore.h" ] || fail "no migstore.h"
[ -x "$prefix/bin/migstore" ] || fail "no bin/migstore"
[ -f "$prefix/share/man/man1/migstore.1" ] || fail "no man page"
pc=$(find "$prefix" -name migstore.pc)
[ -n "$pc" ] || fail "no migstore.pc"
[ -f "$(find "$prefix" -name migstoreConfig.cmake)" ] || fail "no migstoreConfig.cmake"

# Only the C API is exported: every dynamic symbol the library defines is
# migstore_*.
others=$(nm -D --defined-only "$lib" | awk '{ print $3 }' |
         grep -v '^migstore_' | grep -v '^_init$\|^_fini$' || true)
[ -z "$others" ] || fail "exports beyond the C API: $(echo "$others" | head -5)"

"$prefix/bin/migstore" --version >/dev/null || fail "bin/migstore --version"
man -l "$prefix/share/man/man1/migstore.1" >/dev/null 2>&1 ||
  groff -man -Tutf8 "$prefix/share/man/man1/migstore.1" >/dev/null 2>&1 ||
  [ -s "$prefix/share/man/man1/migstore.1" ] || fail "man page unreadable"

# 1. find_package(migstore CONFIG)
cmake -S "$src/examples/c" -B "$tmp/cmake-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" \
  >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
mkdir "$tmp/run-cmake"
"$tmp/cmake-build/capture_restore" "$tmp/run-cmake"

# 2. pkg-config
export PKG_CONFIG_PATH=$(dirname "$pc")
[ "$(pkg-config --modversion migstore)" = \
  "$("$prefix/bin/migstore" --version | awk '{ print $2; exit }')" ] ||
  fail "pkg-config --modversion differs from migstore --version"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/capture_restore_pc" \
  "$src/examples/c/capture_restore.c" $(pkg-config --cflags --libs migstore)
mkdir "$tmp/run-pc"
LD_LIBRARY_PATH=$libdir "$tmp/capture_restore_pc" "$tmp/run-pc"

# 3. Python ctypes, against the installed library.
if command -v python3 >/dev/null; then
  mkdir "$tmp/run-py"
  python3 "$src/examples/python/capture_restore.py" \
    --library "$libdir/libmigstore.so.0" "$tmp/run-py"
fi
echo "install_test: ok"
