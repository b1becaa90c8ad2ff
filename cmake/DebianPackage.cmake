# `cpack -G DEB` in a build configured with -DORDER_SERVICE_INSTALL_LAYOUT=debian (scripts/deb-build.sh):
#   order-service_<version>_amd64.deb       the daemon (and its user-service link), its plugins, migrations,
#                                           configuration, the units order-service and user-service
#   order-service-dev_<version>_amd64.deb   the plugin SDK (headers, library link, CMake package)
# Runtime dependencies come from dpkg-shlibdeps; the maintainer scripts in config/debian create
# the order-service user and /var/lib/order-service, and delete the data on purge.
set(ORDER_SERVICE_MAINTAINER "Order Service maintainers <maintainers@users.noreply.b-seed-00f6cfe5.example>")
set(debian_dir ${PROJECT_SOURCE_DIR}/config/debian)

# Each package's /usr/share/doc/<package>: copyright and the changelog, compressed as policy says.
configure_file(${debian_dir}/changelog.in ${CMAKE_BINARY_DIR}/debian/changelog @ONLY)
configure_file(${debian_dir}/order-service.8 ${CMAKE_BINARY_DIR}/debian/order-service.8 COPYONLY)
execute_process(COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/debian/changelog ${CMAKE_BINARY_DIR}/debian/order-service.8
  COMMAND_ERROR_IS_FATAL ANY)
# user-service(8) is the same page, as /usr/bin/user-service is the same executable
file(CREATE_LINK order-service.8.gz ${CMAKE_BINARY_DIR}/debian/user-service.8.gz SYMBOLIC)
install(FILES ${CMAKE_BINARY_DIR}/debian/order-service.8.gz ${CMAKE_BINARY_DIR}/debian/user-service.8.gz
  DESTINATION share/man/man8 COMPONENT runtime)
install(FILES ${debian_dir}/copyright ${CMAKE_BINARY_DIR}/debian/changelog.gz
  DESTINATION share/doc/order-service COMPONENT runtime)
install(FILES ${debian_dir}/copyright ${CMAKE_BINARY_DIR}/debian/changelog.gz
  DESTINATION share/doc/order-service-dev COMPONENT dev)

# Every file the package puts under /etc is a conffile: an upgrade keeps the administrator's
# changes, remove keeps the files, purge deletes them.
set(conffiles "")
foreach(file IN LISTS ORDER_SERVICE_PACKAGED_CONFIG_FILES)
  string(APPEND conffiles "${ORDER_SERVICE_INSTALL_CONFIGDIR}/${file}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "${conffiles}")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME order-service)
set(CPACK_PACKAGE_VENDOR "Orders & Notifications platform")
set(CPACK_PACKAGE_CONTACT "${ORDER_SERVICE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ORDER_SERVICE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/order-service/order-service")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libsvc-plugin-api.so.0 is the package's own, private library
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/bin)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME order-service)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "HTTP API of the Orders & Notifications platform
Creates, lists, cancels and returns orders over HTTP/JSON. A small POCO host
loads route and storage plugins named in its configuration; orders are stored
in SQLite (the default, under /var/lib/order-service) or PostgreSQL.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  ${debian_dir}/postinst ${debian_dir}/prerm ${debian_dir}/postrm ${CMAKE_BINARY_DIR}/debian/conffiles)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME order-service-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "order-service (= ${PROJECT_VERSION}), libpoco-dev (>= 1.11), libboost-dev (>= 1.74), cmake (>= 3.25), make | ninja-build, g++ (>= 4:12)")
set(CPACK_DEBIAN_DEV_DESCRIPTION "plugin SDK of Order Service
Headers, library link and CMake package (find_package(OrderService)) to
build route and storage plugins for Order Service outside its source tree.")

include(CPack)
