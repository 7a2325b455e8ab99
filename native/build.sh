#!/usr/bin/env bash
# Builds the three parity libraries of native/include/scjax_native.h into native/build/:
#   libscjax_rust.so (cargo, no dependencies), libscjax_go.so (go, cgo c-shared),
#   libscjax_mojo.so (mojo 1.2 from PyPI; installed into .venv when absent),
# then copies each built library into the package data folder scjax/_native/, where
# scjax.backends.native finds it (in an editable install, and in a wheel built afterwards).
# A missing toolchain skips that language with a one-line reason; a library already newer
# than its sources is not rebuilt. A compile error fails the script (after trying the others).
# SCJAX_NO_MOJO_INSTALL=1 skips the Mojo install (Mojo is then skipped when absent).
set -uo pipefail

NATIVE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$NATIVE")"
BUILD="$NATIVE/build"
HEADER="$NATIVE/include/scjax_native.h"
mkdir -p "$BUILD"
failed=0

# up_to_date LIB SOURCE...: true when LIB exists and is newer than every source and this script.
up_to_date() {
    local lib="$1"; shift
    [ -f "$lib" ] || return 1
    local src
    for src in "$@" "$HEADER" "$NATIVE/build.sh"; do
        [ "$lib" -nt "$src" ] || return 1
    done
}

# --- Rust -----------------------------------------------------------------------------------
rust_lib="$BUILD/libscjax_rust.so"
if ! command -v cargo >/dev/null 2>&1; then
    echo "native: rust skipped: cargo not found on PATH (install rustup to build libscjax_rust.so)"
elif up_to_date "$rust_lib" "$NATIVE/rust/Cargo.toml" "$NATIVE/rust/src/lib.rs"; then
    echo "native: rust up to date ($rust_lib)"
elif (cd "$NATIVE/rust" && cargo build --release --offline --quiet) \
        && cp "$NATIVE/rust/target/release/libscjax_rust.so" "$rust_lib.tmp" \
        && mv "$rust_lib.tmp" "$rust_lib"; then
    echo "native: rust built $rust_lib"
else
    echo "native: rust FAILED to build" >&2
    failed=1
fi

# --- Go -------------------------------------------------------------------------------------
go_lib="$BUILD/libscjax_go.so"
if ! command -v go >/dev/null 2>&1; then
    echo "native: go skipped: go not found on PATH (install Go >= 1.21 to build libscjax_go.so)"
elif ! command -v "${CC:-cc}" >/dev/null 2>&1; then
    echo "native: go skipped: no C compiler for cgo (${CC:-cc} not found)"
elif up_to_date "$go_lib" "$NATIVE/go/go.mod" "$NATIVE/go/scjax.go"; then
    echo "native: go up to date ($go_lib)"
else
    # GOAMD64=v1: no FMA instructions, so Go cannot fuse x*y+z (parity needs each product
    # rounded, as in JAX's expressions); GOTOOLCHAIN=local, GOPROXY=off: never download.
    [ -n "${HOME:-}" ] || export GOCACHE="$BUILD/.gocache"
    tmp="$(mktemp -d "$BUILD/.go.XXXXXX")"
    if (cd "$NATIVE/go" && CGO_ENABLED=1 GOAMD64=v1 GOTOOLCHAIN=local GOPROXY=off \
            go build -buildmode=c-shared -trimpath -o "$tmp/libscjax_go.so" .) \
            && mv "$tmp/libscjax_go.so" "$go_lib"; then
        echo "native: go built $go_lib"
    else
        echo "native: go FAILED to build" >&2
        failed=1
    fi
    rm -rf "$tmp"
fi

# --- Mojo -----------------------------------------------------------------------------------
mojo_lib="$BUILD/libscjax_mojo.so"
MOJO="$(command -v mojo 2>/dev/null || true)"
if [ -z "$MOJO" ] && [ -x "$ROOT/.venv/bin/mojo" ]; then
    MOJO="$ROOT/.venv/bin/mojo"
fi
if [ -z "$MOJO" ] && ! up_to_date "$mojo_lib" "$NATIVE/mojo/scjax.mojo"; then
    if [ -n "${SCJAX_NO_MOJO_INSTALL:-}" ]; then
        :  # asked not to install (tests of this script)
    elif [ -x "$ROOT/.venv/bin/python" ]; then
        echo "native: installing the mojo compiler into .venv (pip install 'mojo>=1.2,<1.3')"
        if "$ROOT/.venv/bin/python" -m pip install -q "mojo>=1.2,<1.3" >/dev/null 2>&1 \
                && [ -x "$ROOT/.venv/bin/mojo" ]; then
            MOJO="$ROOT/.venv/bin/mojo"
        fi
    fi
fi
if up_to_date "$mojo_lib" "$NATIVE/mojo/scjax.mojo"; then
    echo "native: mojo up to date ($mojo_lib)"
elif [ -z "$MOJO" ]; then
    echo "native: mojo skipped: no mojo compiler (pip install 'mojo>=1.2,<1.3' failed or no .venv)"
else
    # --fp-mode contract=off: Mojo fuses a*b+c into FMA by default, which rounds differently
    # from the two operations JAX's expressions (and the Rust and Go libraries) perform.
    # --target-cpu x86-64-v2: Mojo targets the build machine's CPU by default (AVX-512 here),
    # so a library copied into a wheel would die of SIGILL on an older CPU, and valgrind
    # cannot run it. Rust and Go build for the baseline too. ($HOSTTYPE: no uname needed.)
    mojo_cpu=()
    [ "${HOSTTYPE:-}" = "x86_64" ] && mojo_cpu=(--target-cpu x86-64-v2)
    log="$BUILD/.mojo_build.log"
    if (cd "$NATIVE/mojo" && "$MOJO" build --fp-mode contract=off "${mojo_cpu[@]}" \
            --emit shared-lib -o "$mojo_lib.tmp" scjax.mojo) >"$log" 2>&1 \
            && mv "$mojo_lib.tmp" "$mojo_lib"; then
        echo "native: mojo built $mojo_lib"
    else
        grep -v -i crashpad "$log" >&2
        echo "native: mojo FAILED to build" >&2
        rm -f "$mojo_lib.tmp"
        failed=1
    fi
fi

# --- package data -----------------------------------------------------------------------------
# Copy to a temporary name, then rename: a process that has the old file loaded keeps its
# mapping (overwriting a mapped .so in place would crash it). cp -p keeps the mtime, so an
# unchanged library is not copied again.
PACKAGE="$ROOT/scjax/_native"
if [ -d "$PACKAGE" ]; then
    for lib in "$rust_lib" "$go_lib" "$mojo_lib"; do
        [ -f "$lib" ] || continue
        dst="$PACKAGE/${lib##*/}"
        if [ -f "$dst" ] && ! [ "$lib" -nt "$dst" ] && ! [ "$lib" -ot "$dst" ]; then
            continue
        fi
        if cp -p "$lib" "$dst.tmp" && mv "$dst.tmp" "$dst"; then
            echo "native: copied ${lib##*/} into $PACKAGE"
        else
            echo "native: FAILED to copy $lib into $PACKAGE" >&2
            rm -f "$dst.tmp"
            failed=1
        fi
    done
fi

exit "$failed"
