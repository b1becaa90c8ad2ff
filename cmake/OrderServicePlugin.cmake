# order_service_add_plugin(<name> SOURCES <file>... [LIBRARIES <library>...] [OUTPUT_DIRECTORY <dir>]
#                          [MIGRATIONS <dir> [MIGRATIONS_NAME <route name>]])
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
#   ORDER_SERVICE_MIGRATIONS_OUTPUT_DIRECTORY  the migrations root of the built service
#                                              (default: <build>/migrations)
#   ORDER_SERVICE_MIGRATIONS_INSTALL_DIR       where the migrations root is installed (unset: not installed)
#
# MIGRATIONS names the plugin's schema folder, <dir>/<backend>/NNN_*.sql (<backend>: sqlite,
# postgresql): it is copied to <migrations root>/<route name>/, where the host finds the
# migrations of the route plugin loaded under that name ([plugins] migrations, docs/architecture.md).
# The route name is <name> unless MIGRATIONS_NAME says otherwise. Installed when the plugin is.
function(order_service_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "OUTPUT_DIRECTORY;MIGRATIONS;MIGRATIONS_NAME" "SOURCES;LIBRARIES" ${ARGN})
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
  if(PLUGIN_MIGRATIONS)
    if(NOT PLUGIN_MIGRATIONS_NAME)
      set(PLUGIN_MIGRATIONS_NAME ${name})
    endif()
    set(install_migrations FALSE)
    if(NOT PLUGIN_OUTPUT_DIRECTORY AND ORDER_SERVICE_PLUGIN_INSTALL_DIR)
      set(install_migrations TRUE)
    endif()
    _order_service_add_migrations(${PLUGIN_MIGRATIONS} ${PLUGIN_MIGRATIONS_NAME} ${install_migrations})
  endif()
  # Every symbol resolved at link time, except with clang's sanitizers or fuzzing, whose runtimes
  # clang links into the executable only.
  if(NOT (CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND (ORDER_SERVICE_SANITIZE OR ORDER_SERVICE_FUZZ)))
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()

# Copies the schema folder `dir` to <migrations root>/<route_name>/ at configure time (again when
# a file is added or removed), and installs it there when `install` is true.
function(_order_service_add_migrations dir route_name install)
  get_filename_component(dir ${dir} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT IS_DIRECTORY ${dir})
    message(FATAL_ERROR "order_service_add_plugin: MIGRATIONS ${dir} is not a folder")
  endif()
  set(root ${ORDER_SERVICE_MIGRATIONS_OUTPUT_DIRECTORY})
  if(NOT root)
    set(root ${CMAKE_BINARY_DIR}/migrations)
  endif()
  file(GLOB_RECURSE files CONFIGURE_DEPENDS RELATIVE ${dir} ${dir}/*.sql)
  foreach(file IN LISTS files)
    configure_file(${dir}/${file} ${root}/${route_name}/${file} COPYONLY)
  endforeach()
  if(install AND ORDER_SERVICE_MIGRATIONS_INSTALL_DIR)
    install(DIRECTORY ${dir}/ DESTINATION ${ORDER_SERVICE_MIGRATIONS_INSTALL_DIR}/${route_name} COMPONENT runtime
      FILES_MATCHING PATTERN "*.sql")
  endif()
endfunction()
