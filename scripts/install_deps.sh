#!/usr/bin/env bash
# Installs the Debian packages snn2ann builds, tests and runs with, when missing;
# `install_deps.sh fuzz` adds clang and its libFuzzer runtime for the fuzz harnesses;
# `install_deps.sh test` adds those, doxygen (whose run on the headers is a test) and
# h5py and numpy (the tests that check HDF5 files written by the library from Python).
# Idempotent; as root it uses apt-get directly, otherwise sudo.
set -euo pipefail
packages=(cmake g++ make ccache libeigen3-dev libtbb-dev libxtensor-dev zlib1g-dev libzip-dev doctest-dev
          libbenchmark-dev libturbojpeg0-dev libopenmpi-dev openmpi-bin libcli11-dev libhdf5-dev dataset-fashion-mnist)
case "${1:-}" in
    fuzz) packages+=(clang libclang-rt-14-dev) ;;
    test) packages+=(clang libclang-rt-14-dev doxygen python3-h5py python3-numpy) ;;
esac
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install_deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
