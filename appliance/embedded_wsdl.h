// SPDX-License-Identifier: GPL-2.0-or-later
// The published contract, compiled into vsad so the daemon serves exactly
// the WSDL its skeleton was generated from (embedded_wsdl.cpp is generated
// by CMake from wsdl/VirtualServer.wsdl).
#pragma once

#include <string_view>

namespace vsa::appliance {

std::string_view embedded_wsdl();

} // namespace vsa::appliance
