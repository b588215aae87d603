// SPDX-License-Identifier: GPL-2.0-or-later
// gSOAP's runtime looks up the global `namespaces` table; the generated
// .nsmap defines it and must be included in exactly one translation unit.
#include "soapH.h"

#include "VirtualServerBinding.nsmap"
