// SPDX-License-Identifier: GPL-2.0-or-later
//
// The SOAP API reference (api.html). The page itself is generated at build
// time from wsdl/vsa-api.txt (wsdl/gen_api_html.py) and is static: this
// module only adds the shared header and navigation.

import { initLayout } from './layout.js';

initLayout('api');
document.body.dataset.state = 'loaded';
