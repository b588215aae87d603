// SPDX-License-Identifier: GPL-2.0-or-later
// Generated passwords for the first administrator: 20 characters from an
// alphabet without look-alikes (0/O, 1/l/I), about 115 bits from the CSPRNG.
#pragma once

#include <string>

namespace vsa::appliance {

std::string generate_password(std::size_t length = 20);

} // namespace vsa::appliance
