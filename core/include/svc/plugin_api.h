#pragma once

/// Everything a plugin compiles against. Plugins include this header (or the parts they need)
/// and link svc::plugin_api; see docs/architecture.md, "Writing a new plugin".
#include "svc/http.h"
#include "svc/json.h"
#include "svc/log.h"
#include "svc/metrics.h"
#include "svc/plugin.h"
#include "svc/query.h"
#include "svc/routes.h"
#include "svc/storage.h"
#include "svc/timestamp.h"
#include "svc/version.h"
