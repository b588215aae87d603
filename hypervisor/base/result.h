// SPDX-License-Identifier: GPL-2.0-or-later
// Result<T, E>: our C++20 stand-in for std::expected (C++23), with TRY().
//
// Why not exceptions: hypervisor/ and hw/ never throw (a guest must not be
// able to unwind the emulator), and services/ returns errors as values so
// the SOAP adapter can map each one to exactly one HRESULT. Poco and gSOAP
// exceptions are caught at the handler boundary and turned into these.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace vsa {

// Wraps an error so that Result<T, E> can be built from it even when T and E
// are the same type (Result<int, int>).
template <typename E>
struct Err {
    E value;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
public:
    Result(T value) : m_storage(std::in_place_index<0>, std::move(value)) {}
    template <typename F>
    requires std::is_constructible_v<E, F&&> Result(Err<F> error)
        : m_storage(std::in_place_index<1>, E(std::move(error.value))) {}
    Result(E error) requires(!std::is_same_v<T, E>) : m_storage(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const { return m_storage.index() == 0; }
    bool is_error() const { return !has_value(); }
    explicit operator bool() const { return has_value(); }

    T& value() & { return *std::get_if<0>(checked_value()); }
    T const& value() const& { return *std::get_if<0>(checked_value()); }
    T&& value() && { return std::move(*std::get_if<0>(checked_value())); }
    T release_value() { return std::move(value()); }
    E const& error() const { return *std::get_if<1>(checked_error()); }
    E release_error() { return std::move(*std::get_if<1>(checked_error())); }

    T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

private:
    // Reaching for the wrong alternative is a programming error no guest or
    // client can trigger (every caller tests has_value() or uses TRY): abort
    // rather than read garbage.
    auto* checked_value() const {
        if (!has_value()) std::abort();
        return &const_cast<Result*>(this)->m_storage;
    }
    auto* checked_error() const {
        if (has_value()) std::abort();
        return &const_cast<Result*>(this)->m_storage;
    }

    std::variant<T, E> m_storage;
};

// Result<void, E>: success carries nothing.
struct Ok {};

template <typename E>
class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    Result(Ok) {}
    Result(E error) : m_error(std::move(error)), m_failed(true) {}
    template <typename F>
    requires std::is_constructible_v<E, F&&> Result(Err<F> error)
        : m_error(E(std::move(error.value))), m_failed(true) {}

    bool has_value() const { return !m_failed; }
    bool is_error() const { return m_failed; }
    explicit operator bool() const { return !m_failed; }
    void value() const {}
    void release_value() const {}
    E const& error() const {
        if (!m_failed) std::abort();
        return m_error;
    }
    E release_error() {
        if (!m_failed) std::abort();
        return std::move(m_error);
    }

private:
    E m_error{};
    bool m_failed{false};
};

} // namespace vsa

// TRY(expr): evaluate a Result; on error return the error from the enclosing
// function, otherwise yield the value. A GNU statement expression, as in
// SerenityOS; we build only with GCC and Clang.
#define TRY(expression)                                                                                      \
    ({                                                                                                       \
        auto&& _vsa_try_result = (expression);                                                               \
        if (_vsa_try_result.is_error()) return ::vsa::Err{_vsa_try_result.release_error()};                  \
        _vsa_try_result.release_value();                                                                     \
    })
