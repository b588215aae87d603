// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers for the appliance unit tests.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace vsa::test {

// A fresh directory under the system temp folder, removed on destruction.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        m_path = std::filesystem::temp_directory_path() /
                 ("vsa-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                  std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(TempDir const&) = delete;
    TempDir& operator=(TempDir const&) = delete;
    std::filesystem::path const& path() const { return m_path; }
    std::string file(std::string const& name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

// `bytes` bytes of repeatable noise (the same for the same seed): disk
// contents that no bug can produce by accident.
inline std::vector<std::byte> pattern_bytes(std::size_t bytes, unsigned seed) {
    std::vector<std::byte> data(bytes);
    std::mt19937 random(seed);
    for (auto& b : data)
        b = std::byte(random() & 0xFF);
    return data;
}

} // namespace vsa::test
