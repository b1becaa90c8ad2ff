# order_service_add_plugin(<name> SOURCES <file>... [LIBRARIES <library>...] [OUTPUT_DIRECTORY <dir>])
#
# Declares lib<name>.so, a plugin the Order Service host loads with one .ini line
# (`route.<x> = <name>` in its plugins folder, or a path): a loadable MODULE linked against
# OrderService::plugin_api, with only the Boost.DLL entry points visible and every symbol resolved
# at link time. The one definition for the plugins of the Order Service tree and, installed with
# its CMake package (find_package(OrderService)), for plugins built anywhere else.
#
# The project that includes it may set:
#   ORDER_SERVICE_PLUGIN_OUTPUT_DIRECTORY  where plugins without OUTPUT_DIRECTORY are built
#   ORDER_SERVICE_PLUGIN_INSTALL_DIR       where those are installed (unset: not installed)
#   ORDER_SERVICE_PLUGIN_LIBRARIES         what every plugin links besides the plugin API
function(order_service_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT PLUGIN_SOURCES)
    message(FATAL_ERROR "order_service_add_plugin(${name}): no SOURCES")
  endif()
  add_library(${name} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${name} PRIVATE OrderService::plugin_api ${ORDER_SERVICE_PLUGIN_LIBRARIES} ${PLUGIN_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    SUFFIX ".so"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    # installed in <the plugin API library's folder>/plugins
    INSTALL_RPATH "$ORIGIN/..")
  if(PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PLUGIN_OUTPUT_DIRECTORY})
  elseif(ORDER_SERVICE_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ORDER_SERVICE_PLUGIN_OUTPUT_DIRECTORY})
    if(ORDER_SERVICE_PLUGIN_INSTALL_DIR)
      install(TARGETS ${name} LIBRARY DESTINATION ${ORDER_SERVICE_PLUGIN_INSTALL_DIR} COMPONENT runtime)
    endif()
  endif()
  # Every symbol resolved at link time, except with clang's sanitizers or fuzzing, whose runtimes
  # clang links into the executable only.
  if(NOT (CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND (ORDER_SERVICE_SANITIZE OR ORDER_SERVICE_FUZZ)))
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
