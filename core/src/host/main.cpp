#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "service_host.h"

namespace {

// With --daemon, POCO detaches and changes the working directory to / before it reads the
// options, so a relative --config or --pidfile would name a file under /. Resolve them first.
std::vector<std::string> withAbsolutePaths(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (std::string& arg : args) {
    for (const std::string_view option : {"--config=", "--pidfile="}) {
      if (arg.starts_with(option) && arg.size() > option.size()) {
        arg = std::string(option) + std::filesystem::absolute(arg.substr(option.size())).string();
      }
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    svc::host::ServiceHost host;
    return host.launch(withAbsolutePaths(argc, argv));
  } catch (const std::exception& error) {
    std::cerr << "order-service: " << error.what() << '\n';
    return Poco::Util::Application::EXIT_SOFTWARE;
  }
}
