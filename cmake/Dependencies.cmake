# Debian's PocoDataPostgreSQLTargets.cmake links PostgreSQL::client, which nothing defines
# (upstream poco#3036). Define it before Poco is found, or configuring fails.
find_package(PostgreSQL REQUIRED)
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client INTERFACE IMPORTED)
  target_link_libraries(PostgreSQL::client INTERFACE PostgreSQL::PostgreSQL)
endif()

find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Net Util JSON Data DataSQLite DataPostgreSQL)
find_package(Boost 1.74 REQUIRED)
find_package(Threads REQUIRED)

# Boost.DLL is header-only when it may use std::filesystem.
add_library(boost_dll INTERFACE)
target_link_libraries(boost_dll INTERFACE Boost::boost ${CMAKE_DL_LIBS})
target_compile_definitions(boost_dll INTERFACE BOOST_DLL_USE_STD_FS)
