# order_service_add_plugin(<name> SOURCES ... [LIBRARIES ...] [OUTPUT_DIRECTORY dir])
# Builds lib<name>.so as a loadable MODULE against the plugin API, with only the
# Boost.DLL entry points visible and every symbol resolved at link time. A plugin built into
# the service's plugins/ folder is installed there; one with its own OUTPUT_DIRECTORY (tests) is not.
function(order_service_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT PLUGIN_OUTPUT_DIRECTORY)
    set(PLUGIN_OUTPUT_DIRECTORY ${ORDER_SERVICE_APP_DIR}/plugins)
    set(install_plugin ON)
  endif()
  add_library(${name} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${name} PRIVATE svc::plugin_api project_warnings ${PLUGIN_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${PLUGIN_OUTPUT_DIRECTORY}
    INSTALL_RPATH "$ORIGIN/.."
    BUILD_RPATH "${ORDER_SERVICE_APP_DIR}")
  # Every symbol resolved at link time, except with clang's sanitizers or fuzzing, whose runtimes
  # clang links into the executable only.
  if(NOT (CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND (ORDER_SERVICE_SANITIZE OR ORDER_SERVICE_FUZZ)))
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  if(install_plugin)
    install(TARGETS ${name} LIBRARY DESTINATION plugins)
  endif()
endfunction()
