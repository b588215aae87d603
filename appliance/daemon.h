// SPDX-License-Identifier: GPL-2.0-or-later
// VsaDaemon: vsad's Poco ServerApplication. It reads and validates the
// configuration, opens the model and the account store, makes TLS material
// on first start, serves HTTPS until SIGTERM/SIGINT, then stops cleanly
// (in-flight requests finish, listeners close).
#pragma once

#include <Poco/Util/ServerApplication.h>

namespace vsa::appliance {

class VsaDaemon final : public Poco::Util::ServerApplication {
protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(std::string const& name, std::string const& value) override;
    int main(std::vector<std::string> const& args) override;

private:
    void display_help();
    bool m_stop{false};
};

} // namespace vsa::appliance
