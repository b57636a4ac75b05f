// Status and Result<T>: recoverable errors without exceptions across module edges.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace anser {

// A success, or an error with a message that names the operation and the object.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  const std::string& message() const {
    static const std::string kEmpty;
    return message_ ? *message_ : kEmpty;
  }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: must hold an error

  bool ok() const { return std::holds_alternative<T>(data_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }
  const std::string& message() const { return std::get<Status>(data_).message(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace anser

// Propagates an error Status from an expression returning Status.
#define ANSER_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::anser::Status anser_status_ = (expr);  \
    if (!anser_status_.ok()) return anser_status_; \
  } while (0)

#define ANSER_CONCAT_INNER(a, b) a##b
#define ANSER_CONCAT(a, b) ANSER_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, or returns its error.
#define ANSER_ASSIGN_OR_RETURN(lhs, expr) \
  ANSER_ASSIGN_OR_RETURN_IMPL(ANSER_CONCAT(anser_result_, __LINE__), lhs, expr)
#define ANSER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
