#!/usr/bin/env bash
# Builds the Debian packages of Order Service (CPack, cmake/DebianPackage.cmake) into build-deb/:
#   order-service_<version>_amd64.deb      the daemon (/usr/bin/order-service), plugins, migrations,
#                                          /etc/order-service/*.ini, the systemd unit
#   order-service-dev_<version>_amd64.deb  the plugin SDK (find_package(OrderService))
# Prints the path of order-service_<version>_amd64.deb.
#
#   scripts/deb-build.sh      (BUILD_DIR=... to build elsewhere than build-deb: absolute, or relative to the repository)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --package

build=${BUILD_DIR:-build-deb}
# Debian's hardening flags (fortify, stack protector, full RELRO with immediate binding)
flag() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"; }
ldflags=$(flag LDFLAGS)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DORDER_SERVICE_INSTALL_LAYOUT=debian -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_CXX_FLAGS="$(flag CPPFLAGS) $(flag CXXFLAGS)" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" -DCMAKE_MODULE_LINKER_FLAGS="$ldflags" \
  -DORDER_SERVICE_BUILD_TESTS=OFF -DORDER_SERVICE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >&2
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >&2)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
# BUILD_DIR may be absolute or relative to the repository: let cd resolve it either way.
deb=$(cd "$build" && pwd)/order-service_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { echo "deb-build: no $deb" >&2; exit 1; }
echo "$deb"
