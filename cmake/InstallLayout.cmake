# Where `cmake --install` puts each part, relative to CMAKE_INSTALL_PREFIX unless absolute.
#   app (default): one relocatable folder laid out like build/bin, so the default .ini finds
#                  everything through ${application.dir} (e.g. --prefix /opt/order-service, the Dockerfile).
#   debian:        the Filesystem Hierarchy Standard under /usr, /etc and /var, as the .deb installs it
#                  (cmake/DebianPackage.cmake; scripts/deb-build.sh configures it).
set(ORDER_SERVICE_INSTALL_LAYOUT app CACHE STRING "Install layout: app (one relocatable folder) or debian (FHS)")
set_property(CACHE ORDER_SERVICE_INSTALL_LAYOUT PROPERTY STRINGS app debian)

if(ORDER_SERVICE_INSTALL_LAYOUT STREQUAL "app")
  set(ORDER_SERVICE_INSTALL_BINDIR .)
  set(ORDER_SERVICE_INSTALL_LIBDIR .)
  set(ORDER_SERVICE_INSTALL_PLUGINDIR plugins)
  set(ORDER_SERVICE_INSTALL_DATADIR .)
  set(ORDER_SERVICE_INSTALL_CONFIGDIR config)
  set(ORDER_SERVICE_INSTALL_INCLUDEDIR include)
elseif(ORDER_SERVICE_INSTALL_LAYOUT STREQUAL "debian")
  if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
    set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
  endif()
  set(ORDER_SERVICE_INSTALL_BINDIR bin)
  set(ORDER_SERVICE_INSTALL_LIBDIR lib/order-service)
  set(ORDER_SERVICE_INSTALL_PLUGINDIR lib/order-service/plugins)
  set(ORDER_SERVICE_INSTALL_DATADIR share/order-service)
  set(ORDER_SERVICE_INSTALL_CONFIGDIR /etc/order-service)
  set(ORDER_SERVICE_INSTALL_INCLUDEDIR include/order-service)
  set(ORDER_SERVICE_STATE_DIR /var/lib/order-service)
  set(ORDER_SERVICE_INSTALL_UNITDIR /lib/systemd/system)
else()
  message(FATAL_ERROR "ORDER_SERVICE_INSTALL_LAYOUT must be app or debian, not '${ORDER_SERVICE_INSTALL_LAYOUT}'")
endif()
set(ORDER_SERVICE_INSTALL_CMAKEDIR lib/cmake/OrderService)

# The executable finds libsvc-plugin-api.so.0 relative to itself; the plugins, in <libdir>/plugins,
# use "$ORIGIN/..".
file(RELATIVE_PATH ORDER_SERVICE_BIN_TO_LIB /prefix/${ORDER_SERVICE_INSTALL_BINDIR} /prefix/${ORDER_SERVICE_INSTALL_LIBDIR})
if(ORDER_SERVICE_BIN_TO_LIB)
  set(ORDER_SERVICE_BINARY_RPATH "$ORIGIN/${ORDER_SERVICE_BIN_TO_LIB}")
else()
  set(ORDER_SERVICE_BINARY_RPATH "$ORIGIN")
endif()
