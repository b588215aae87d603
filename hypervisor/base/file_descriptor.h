// SPDX-License-Identifier: GPL-2.0-or-later
// FileDescriptor: the one RAII owner of a POSIX file descriptor. Movable,
// not copyable; the destructor closes. close() is explicit where a writer
// must see the result (it can report a deferred write error, e.g. on NFS).
#pragma once

#include <unistd.h>
#include <utility>

namespace vsa {

class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    FileDescriptor(FileDescriptor const&) = delete;
    FileDescriptor& operator=(FileDescriptor const&) = delete;
    FileDescriptor(FileDescriptor&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    ~FileDescriptor() { reset(); }

    int fd() const { return m_fd; }
    bool is_open() const { return m_fd >= 0; }
    int close() {
        int result = ::close(m_fd);
        m_fd = -1;
        return result;
    }
    void reset() {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd{-1};
};

} // namespace vsa
