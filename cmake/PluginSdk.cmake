# The plugin SDK that `cmake --install` adds to the service (component "dev"): the headers of
# core/include/svc, the libsvc-plugin-api.so link, and a CMake package that exports
# OrderService::plugin_api and order_service_add_plugin(), so that a plugin built in another
# repository needs only find_package(OrderService 0.1) (see examples/out-of-tree-plugin).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/svc
  DESTINATION ${ORDER_SERVICE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(EXPORT OrderServiceTargets NAMESPACE OrderService::
  DESTINATION ${ORDER_SERVICE_INSTALL_CMAKEDIR} COMPONENT dev)

# kPluginApiVersion, for plugin projects that want to state which contract they build against.
file(STRINGS ${PROJECT_SOURCE_DIR}/core/include/svc/version.h api_version_line REGEX "kPluginApiVersion = [0-9]+")
string(REGEX REPLACE ".*kPluginApiVersion = ([0-9]+).*" "\\1" ORDER_SERVICE_PLUGIN_API_VERSION "${api_version_line}")

configure_package_config_file(cmake/OrderServiceConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/OrderServiceConfig.cmake
  INSTALL_DESTINATION ${ORDER_SERVICE_INSTALL_CMAKEDIR}
  PATH_VARS ORDER_SERVICE_INSTALL_INCLUDEDIR ORDER_SERVICE_INSTALL_PLUGINDIR)
# 0.x: a minor version may change the contract, so 0.1 accepts 0.1.* only.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/OrderServiceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/OrderServiceConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/OrderServiceConfigVersion.cmake
    ${PROJECT_SOURCE_DIR}/cmake/OrderServicePlugin.cmake
  DESTINATION ${ORDER_SERVICE_INSTALL_CMAKEDIR} COMPONENT dev)
