#!/usr/bin/env bash
# Runs a PyTorch script (the first argument; the rest passed through) in the best
# configuration Debian's torch has on this kind of machine, so that comparisons are
# against a well-tuned baseline:
#  - OpenBLAS with its auto-detected (AVX-512) kernel instead of Debian torch's reference
#    BLAS, one BLAS thread (torch's own threads do the rest) unless BLAS_THREADS says more;
#  - glibc malloc that keeps freed memory: first-touch page faults are expensive in these
#    virtual machines and a buffer-reusing C++ library avoids them anyway.
# OpenBLAS is unpacked into a cache folder, not installed, so the system stays as it is.
set -eu
script=$1
shift
cache=${PEER_CACHE:-/tmp/snn2ann-peer}
dpkg -s python3-torch >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-torch >/dev/null; }
ob=$cache/root/usr/lib/x86_64-linux-gnu/openblas-pthread
if [ ! -f "$ob/libblas.so.3" ]; then
  mkdir -p "$cache" && (cd "$cache" && apt-get download libopenblas0-pthread >/dev/null 2>&1 \
    && dpkg -x libopenblas0-pthread_*.deb root)
fi
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="${BLAS_THREADS:-1}" LD_LIBRARY_PATH="$ob" \
  GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 \
  /usr/bin/python3 "$script" "$@"
