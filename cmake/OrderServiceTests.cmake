# How a test executable declares what it needs; the backend matrix follows from the declaration.
#
#   order_service_add_tests(<target> SOURCES <file>... [PER_BACKEND] [SERIAL] [PGBOUNCER]
#                           [RECORD_RESPONSES] [PLUGINS <target>...] [LINK <library>...])
#
# Builds <target> from SOURCES with tests/support (ServiceTest, ServiceConfig, TestDatabase...)
# and gtest_main, and registers each of its tests:
#   - as core.<Suite>.<test> (on SQLite: TEST_POSTGRES empty) when the tests do not depend on
#     the backend;
#   - with PER_BACKEND, as sqlite.* (label sqlite) and, when ORDER_SERVICE_TEST_POSTGRES is set
#     (scripts/test.sh sets it), postgres.* (label postgres): TestDatabase::create(backendUnderTest())
#     then gives each run its database;
#   - with PGBOUNCER too (and PER_BACKEND), once more as pgbouncer.* (label pgbouncer) behind the
#     PgBouncer in transaction mode of ORDER_SERVICE_TEST_PGBOUNCER.
# SERIAL: each test runs alone (they measure recovery or latency within seconds, or hold
# thousands of connections). RECORD_RESPONSES: every response is recorded and checked against
# docs/openapi.json (the service's own routes only). PLUGINS: targets built before the tests run
# (e.g. the test's own route plugin). LINK: more libraries (svc_host for in-process tests).
# Callable from any folder under tests/, e.g. tests/plugins/<name>/CMakeLists.txt.
function(order_service_add_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "PER_BACKEND;SERIAL;PGBOUNCER;RECORD_RESPONSES" "" "SOURCES;PLUGINS;LINK")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "order_service_add_tests(${target}): SOURCES is required")
  endif()
  add_executable(${target} ${arg_SOURCES})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${ORDER_SERVICE_TEST_BINARY_DIR})
  target_link_libraries(${target} PRIVATE test_support GTest::gtest_main ${arg_LINK})
  add_dependencies(${target} ${ORDER_SERVICE_TEST_DEPENDENCIES} ${arg_PLUGINS})

  set(properties TIMEOUT 120)
  if(arg_SERIAL)
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  set(recorded ${properties})
  if(arg_RECORD_RESPONSES)
    list(APPEND recorded ${ORDER_SERVICE_TEST_RECORDING})
  endif()
  if(NOT arg_PER_BACKEND)
    gtest_discover_tests(${target} TEST_PREFIX "core." DISCOVERY_TIMEOUT 30
      PROPERTIES ENVIRONMENT "TEST_POSTGRES=" ${recorded})
    return()
  endif()
  gtest_discover_tests(${target} TEST_PREFIX "sqlite." DISCOVERY_TIMEOUT 30
    PROPERTIES ENVIRONMENT "TEST_POSTGRES=" LABELS "sqlite" ${recorded})
  if(ORDER_SERVICE_TEST_POSTGRES)
    gtest_discover_tests(${target} TEST_PREFIX "postgres." DISCOVERY_TIMEOUT 30
      PROPERTIES ENVIRONMENT "TEST_POSTGRES=${ORDER_SERVICE_TEST_POSTGRES}" LABELS "postgres" ${recorded})
  endif()
  # One variable: TEST_POSTGRES gets the pooler's port as " pgbouncer_port=N" (gtest_discover_tests
  # cannot pass a list of them).
  if(arg_PGBOUNCER AND ORDER_SERVICE_TEST_POSTGRES AND ORDER_SERVICE_TEST_PGBOUNCER)
    string(REGEX MATCH "port=([0-9]+)" pgbouncer_port "${ORDER_SERVICE_TEST_PGBOUNCER}")
    gtest_discover_tests(${target} TEST_PREFIX "pgbouncer." DISCOVERY_TIMEOUT 30
      PROPERTIES ENVIRONMENT "TEST_POSTGRES=${ORDER_SERVICE_TEST_POSTGRES} pgbouncer_port=${CMAKE_MATCH_1}"
                 LABELS "pgbouncer" ${properties})
  endif()
endfunction()
