add_library(project_warnings INTERFACE)
target_compile_options(project_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  # designated initializers leave the other members at their defaults on purpose
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 at -O3 warns about "literal" + std::string (a false positive, GCC bug 105329)
  target_compile_options(project_warnings INTERFACE -Wno-restrict)
endif()

if(ORDER_SERVICE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # with sanitizers GCC 12 sees uninitialized members in libstdc++'s std::regex and std::function
  target_compile_options(project_warnings INTERFACE -Wno-maybe-uninitialized)
  add_link_options(-fsanitize=address,undefined)
endif()
