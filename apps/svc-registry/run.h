// Runs the service with a loaded configuration until SIGINT or SIGTERM. Only wiring: every
// behaviour lives in the modules.
#pragma once

#include "registry/config/config.h"

namespace registry::app {

// Returns the process exit code: 0 after a clean shutdown, 1 when start-up failed (the reason
// is logged).
int Run(const config::Config& config);

}  // namespace registry::app
