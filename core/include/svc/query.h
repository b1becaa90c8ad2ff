#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "svc/timestamp.h"

namespace svc {

/// A timestamp parameter or column: written as RFC 3339 UTC text, read with parseTimestamp from
/// whatever text the backend prints, so that both backends give the same instant.
struct Timestamp {
  EpochMicros micros = 0;
};

/// A column whose text is not a timestamp: only the row holding it fails to read.
class UnreadableColumn : public std::runtime_error {
 public:
  UnreadableColumn(std::size_t column, std::string text)
      : std::runtime_error("unreadable timestamp in column " + std::to_string(column) + ": " + text),
        column_(column),
        text_(std::move(text)) {}
  std::size_t column() const noexcept { return column_; }
  const std::string& text() const noexcept { return text_; }

 private:
  std::size_t column_;
  std::string text_;
};

namespace query_detail {

/// How a value of type T is held for POCO to bind (`Held`) and converted to and from it.
template <class T>
struct Value {
  using Held = T;
  static Held hold(const T& value) { return value; }
  static T read(const Held& held, std::size_t) { return held; }
};

template <>
struct Value<Timestamp> {
  using Held = std::string;
  static Held hold(const Timestamp& value) { return formatRfc3339Millis(value.micros); }
  static Timestamp read(const Held& held, std::size_t column) {
    const std::optional<EpochMicros> micros = parseTimestamp(held);
    if (!micros) throw UnreadableColumn(column, held);
    return Timestamp{*micros};
  }
};

/// std::optional<T> is NULL when empty, as a parameter and as a column.
template <class T>
struct Value<std::optional<T>> {
  using Held = Poco::Nullable<typename Value<T>::Held>;
  static Held hold(const std::optional<T>& value) { return value ? Held(Value<T>::hold(*value)) : Held(); }
  static std::optional<T> read(const Held& held, std::size_t column) {
    if (held.isNull()) return std::nullopt;
    return Value<T>::read(held.value(), column);
  }
};

}  // namespace query_detail

template <class Params, class Row>
class Query;

/// One prepared statement with typed parameters and result columns, for a plugin's per-connection
/// statements (SessionLease::prepared). It owns what POCO binds to, so that every run sets all
/// parameters and starts from empty result columns: no stale row of the previous run survives.
/// `groups` repeats the parameters, for a multi-row VALUES or an `IN (...)` of a fixed size.
///
///   struct NoteStatements {
///     explicit NoteStatements(Poco::Data::Session& s) : byId(s, "SELECT body, created_at FROM notes WHERE id = $1") {}
///     svc::Query<std::tuple<Poco::Int64>, std::tuple<std::string, svc::Timestamp>> byId;
///   };
///   auto rows = lease.prepared<NoteStatements>().byId.run(id);   // rows.size(), rows.at(0), rows.all()
///   if (rows.size() == 1) return Note{id, std::get<0>(rows.at(0)), std::get<1>(rows.at(0)).micros};
///
/// Parameter and column types: what POCO binds (integers, std::string, ...), svc::Timestamp, and
/// std::optional of either (NULL). Rows stay readable until the next run.
template <class... Params, class... Columns>
class Query<std::tuple<Params...>, std::tuple<Columns...>> {
 public:
  using Row = std::tuple<Columns...>;
  using Parameters = std::tuple<Params...>;

  /// The rows of the last run, converted when read: a row with an unreadable column throws
  /// UnreadableColumn from at() and all(), and leaves the other rows readable.
  class Rows {
   public:
    explicit Rows(const Query& query) : query_(query) {}
    /// Rows returned; for a statement without result columns, rows changed.
    std::size_t size() const {
      if constexpr (sizeof...(Columns) == 0) {
        return query_.changed_;
      } else {
        return std::get<0>(query_.columns_).size();
      }
    }
    bool empty() const { return size() == 0; }
    Row at(std::size_t row) const { return query_.rowAt(row, std::index_sequence_for<Columns...>{}); }
    /// Column `I` of `row` alone.
    template <std::size_t I>
    auto get(std::size_t row) const {
      using Column = std::tuple_element_t<I, Row>;
      return query_detail::Value<Column>::read(std::get<I>(query_.columns_).at(row), I);
    }
    std::vector<Row> all() const {
      std::vector<Row> rows;
      rows.reserve(size());
      for (std::size_t row = 0; row < size(); ++row) rows.push_back(at(row));
      return rows;
    }

   private:
    const Query& query_;
  };

  Query(Poco::Data::Session& session, const std::string& sql, std::size_t groups = 1)
      : parameters_(groups), statement_(session) {
    statement_ << sql;
    for (auto& group : parameters_) {
      std::apply([this](auto&... held) { ((statement_, Poco::Data::Keywords::use(held)), ...); }, group);
    }
    std::apply([this](auto&... column) { ((statement_, Poco::Data::Keywords::into(column)), ...); }, columns_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  /// Binds `params` (for a Query of one group), runs the statement and returns its rows.
  Rows run(const Params&... params) {
    if (parameters_.size() != 1) throw std::logic_error("a Query of several parameter groups runs with runGroups");
    parameters_[0] = Held{query_detail::Value<Params>::hold(params)...};
    return execute();
  }

  /// Binds one parameter group per element of `groups` (as many as the Query was built for).
  Rows runGroups(const std::vector<Parameters>& groups) {
    if (groups.size() != parameters_.size()) throw std::logic_error("a Query ran with a parameter group count unlike its own");
    for (std::size_t g = 0; g < groups.size(); ++g) {
      parameters_[g] = std::apply([](const Params&... params) { return Held{query_detail::Value<Params>::hold(params)...}; },
                                  groups[g]);
    }
    return execute();
  }

 private:
  using Held = std::tuple<typename query_detail::Value<Params>::Held...>;

  Rows execute() {
    std::apply([](auto&... column) { (column.clear(), ...); }, columns_);
    changed_ = statement_.execute();
    return Rows(*this);
  }

  template <std::size_t... I>
  Row rowAt(std::size_t row, std::index_sequence<I...>) const {
    return Row{query_detail::Value<Columns>::read(std::get<I>(columns_).at(row), I)...};
  }

  std::vector<Held> parameters_;  // sized once: POCO holds references into it
  std::tuple<std::vector<typename query_detail::Value<Columns>::Held>...> columns_;
  std::size_t changed_ = 0;
  Poco::Data::Statement statement_;
};

}  // namespace svc
