// SPDX-License-Identifier: GPL-2.0-or-later
// Result is header-only; this file makes sure the header compiles on its own
// and gives vsa_hv an object file until the machine model lands.
#include "hypervisor/base/result.h"

namespace vsa {
static_assert(sizeof(Result<int, int>) > sizeof(int), "Result stores a discriminant");
} // namespace vsa
