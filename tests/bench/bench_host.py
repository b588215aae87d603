# SPDX-License-Identifier: GPL-2.0-or-later
"""What every benchmark records about the host it ran on."""
import platform


def cpu_model():
    """The host CPU's model name, for the RESULTS.md sections."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
