#include "service_host.h"

POCO_SERVER_MAIN(svc::host::ServiceHost)
