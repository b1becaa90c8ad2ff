// A shared library that exports nothing the host looks for.
extern "C" __attribute__((visibility("default"))) int not_a_plugin_function() { return 7; }
