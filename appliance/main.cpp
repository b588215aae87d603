// SPDX-License-Identifier: GPL-2.0-or-later
// vsad: the VSA management service. `vsad user ...` manages accounts;
// anything else runs the daemon (see daemon.h and README).
#include "appliance/daemon.h"
#include "appliance/user_tool.h"

#include <Poco/Net/SSLManager.h>

#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "user") == 0)
        return vsa::appliance::run_user_tool(std::vector<std::string>(argv + 2, argv + argc));
    Poco::Net::initializeSSL();
    int status;
    try {
        vsa::appliance::VsaDaemon daemon;
        status = daemon.run(argc, argv);
    } catch (std::exception const& e) {
        std::cerr << "vsad: " << e.what() << "\n";
        status = 70; // EX_SOFTWARE
    }
    Poco::Net::uninitializeSSL();
    return status;
}
