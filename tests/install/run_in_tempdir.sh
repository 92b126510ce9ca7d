#!/usr/bin/env bash
# run_in_tempdir.sh PROGRAM [ARGS...]: runs PROGRAM ARGS... WORKDIR with a
# fresh WORKDIR that is removed afterwards; exits with PROGRAM's code.
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/migstore-example.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$@" "$work"
