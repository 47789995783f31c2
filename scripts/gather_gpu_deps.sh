#!/usr/bin/env bash
# Copies what scripts/gpu_check.sh needs and a bare GPU machine lacks (it reaches no
# package archive) into .deps/root, keeping the Debian paths so that the packages' CMake
# configs (which locate themselves relatively) work from there: Eigen, oneTBB headers and
# libraries, xtensor, xtl, doctest, zlib's headers, libzip with the libraries it loads
# (bzip2, OpenSSL's libcrypto), TurboJPEG, CLI11 (the benchmarks' command lines) and
# Fashion-MNIST. .deps is git-ignored; pass it to the device tool in `carry`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.deps/root"
rm -rf "$dest"
mkdir -p "$dest"
for pkg in libeigen3-dev libtbb-dev libtbb12 libtbbmalloc2 libtbbbind-2-5 libxtensor-dev xtl-dev doctest-dev zlib1g-dev \
           libzip-dev libzip4 libbz2-1.0 libssl3 libturbojpeg0-dev libturbojpeg0 libcli11-dev dataset-fashion-mnist; do
    dpkg -L "$pkg" | while read -r f; do
        if [ -f "$f" ] || [ -L "$f" ]; then
            case "$f" in /usr/share/doc/*|/usr/share/man/*|*.a) continue ;; esac
            mkdir -p "$dest$(dirname "$f")"
            cp -a "$f" "$dest$f"
        fi
    done
done
# zlib's shared library itself (libz.so points at it; the machine may lack the -dev symlink)
cp -a /usr/lib/x86_64-linux-gnu/libz.so* /lib/x86_64-linux-gnu/libz.so* "$dest/usr/lib/x86_64-linux-gnu/" 2>/dev/null || true
du -sh "$dest"
