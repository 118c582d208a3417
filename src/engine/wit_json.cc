#include "engine/wit_json.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace strata {
namespace {

using nlohmann::json;
using wasmtime::component::Val;
using wasmtime::component::ValType;

std::string Shown(const json& value) {
  constexpr size_t kMax = 80;
  std::string text = value.dump();
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

Status Mismatch(const std::string& where, const ValType& type,
                const json& value) {
  return Status(ErrorCode::kInvalidArgument,
                where + ": expected " + WitTypeName(type) + ", got " +
                    Shown(value));
}

template <typename Int>
Result<Val> IntFromJson(const json& value, const ValType& type,
                        const std::string& where) {
  if (!value.is_number_integer()) return Mismatch(where, type, value);
  bool fits = value.is_number_unsigned()
                  ? value.get<uint64_t>() <= uint64_t{std::numeric_limits<Int>::max()}
                  : value.get<int64_t>() >= int64_t{std::numeric_limits<Int>::min()} &&
                        (std::is_signed_v<Int> || value.get<int64_t>() >= 0) &&
                        (sizeof(Int) == 8 ||
                         value.get<int64_t>() <= int64_t(std::numeric_limits<Int>::max()));
  if (!fits) return Mismatch(where, type, value);
  return Val(value.get<Int>());
}

// Decodes `text` if it is exactly one UTF-8 code point.
std::optional<uint32_t> OneCodePoint(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  size_t length = byte(0) < 0x80 ? 1 : byte(0) < 0xE0 ? 2 : byte(0) < 0xF0 ? 3 : 4;
  if (text.size() != length) return std::nullopt;
  uint32_t code = length == 1 ? byte(0) : byte(0) & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) code = (code << 6) | (byte(i) & 0x3F);
  return code;
}

std::string Utf8(uint32_t code) {
  std::string out;
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
  return out;
}

// A {"tag": payload} object with exactly one key.
const json::object_t::value_type* Tagged(const json& value) {
  if (!value.is_object() || value.size() != 1) return nullptr;
  return &*value.get_ref<const json::object_t&>().begin();
}

Result<std::optional<Val>> Payload(const json& payload,
                                   const std::optional<ValType>& type,
                                   const std::string& where) {
  if (!type) {
    if (!payload.is_null()) {
      return Status(ErrorCode::kInvalidArgument,
                    where + ": expected no payload (null), got " + Shown(payload));
    }
    return std::optional<Val>();
  }
  auto val = WitFromJson(payload, *type, where);
  if (!val.ok()) return val.status();
  return std::optional<Val>(std::move(*val));
}

Result<Val> RecordFromJson(const json& value, const ValType& type,
                           const std::string& where) {
  const auto& record = type.record();
  if (!value.is_object()) return Mismatch(where, type, value);
  std::vector<std::pair<std::string_view, Val>> fields;
  size_t known = 0;
  for (size_t i = 0; i < record.field_count(); ++i) {
    auto [name, field_type] = *record.field_nth(i);
    std::string key(name);
    auto it = value.find(key);
    known += it != value.end();
    // A missing option field is none.
    if (it == value.end() && !field_type.is_option()) {
      return Status(ErrorCode::kInvalidArgument,
                    where + ": missing field '" + key + "' (" +
                        WitTypeName(field_type) + ")");
    }
    auto field = WitFromJson(it == value.end() ? json() : *it, field_type,
                             where + "." + key);
    if (!field.ok()) return field.status();
    fields.emplace_back(name, std::move(*field));
  }
  if (known != value.size()) {
    for (const auto& [key, _] : value.items()) {
      bool found = false;
      for (size_t i = 0; i < record.field_count(); ++i) {
        found |= record.field_nth(i)->first == key;
      }
      if (!found) {
        return Status(ErrorCode::kInvalidArgument,
                      where + ": unknown field '" + key + "' for " +
                          WitTypeName(type));
      }
    }
  }
  return Val(wasmtime::component::Record(std::move(fields)));
}

Result<Val> VariantFromJson(const json& value, const ValType& type,
                            const std::string& where) {
  const auto& variant = type.variant();
  std::string tag;
  json payload;
  if (value.is_string()) {
    tag = value.get<std::string>();
  } else if (const auto* tagged = Tagged(value)) {
    tag = tagged->first;
    payload = tagged->second;
  } else {
    return Mismatch(where, type, value);
  }
  for (size_t i = 0; i < variant.case_count(); ++i) {
    auto [name, case_type] = *variant.case_nth(i);
    if (name != tag) continue;
    auto inner = Payload(payload, case_type, where + "." + tag);
    if (!inner.ok()) return inner.status();
    return Val(wasmtime::component::Variant(name, std::move(*inner)));
  }
  return Mismatch(where, type, value);
}

Result<Val> OptionFromJson(const json& value, const ValType& type,
                           const std::string& where) {
  ValType inner = type.option().ty();
  if (value.is_null()) return Val(wasmtime::component::WitOption(std::nullopt));
  if (const auto* tagged = Tagged(value)) {
    if (tagged->first == "none" && tagged->second.is_null()) {
      return Val(wasmtime::component::WitOption(std::nullopt));
    }
    if (tagged->first == "some") {
      auto some = WitFromJson(tagged->second, inner, where);
      if (!some.ok()) return some.status();
      return Val(wasmtime::component::WitOption(std::move(*some)));
    }
  }
  if (inner.is_option()) return Mismatch(where, type, value);
  auto some = WitFromJson(value, inner, where);
  if (!some.ok()) return some.status();
  return Val(wasmtime::component::WitOption(std::move(*some)));
}

Result<Val> ResultFromJson(const json& value, const ValType& type,
                           const std::string& where) {
  const auto& result = type.result();
  const auto* tagged = Tagged(value);
  if (tagged == nullptr || (tagged->first != "ok" && tagged->first != "err")) {
    return Mismatch(where, type, value);
  }
  bool ok = tagged->first == "ok";
  auto inner = Payload(tagged->second, ok ? result.ok() : result.err(),
                       where + "." + tagged->first);
  if (!inner.ok()) return inner.status();
  return Val(ok ? wasmtime::component::WitResult::ok(std::move(*inner))
                : wasmtime::component::WitResult::err(std::move(*inner)));
}

}  // namespace

std::string WitTypeName(const ValType& type) {
  auto list = [](size_t n, auto&& item) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (i ? ", " : "") + item(i);
    return out;
  };
  switch (type.kind()) {
    case WASMTIME_COMPONENT_VALTYPE_BOOL: return "bool";
    case WASMTIME_COMPONENT_VALTYPE_S8: return "s8";
    case WASMTIME_COMPONENT_VALTYPE_S16: return "s16";
    case WASMTIME_COMPONENT_VALTYPE_S32: return "s32";
    case WASMTIME_COMPONENT_VALTYPE_S64: return "s64";
    case WASMTIME_COMPONENT_VALTYPE_U8: return "u8";
    case WASMTIME_COMPONENT_VALTYPE_U16: return "u16";
    case WASMTIME_COMPONENT_VALTYPE_U32: return "u32";
    case WASMTIME_COMPONENT_VALTYPE_U64: return "u64";
    case WASMTIME_COMPONENT_VALTYPE_F32: return "f32";
    case WASMTIME_COMPONENT_VALTYPE_F64: return "f64";
    case WASMTIME_COMPONENT_VALTYPE_CHAR: return "char";
    case WASMTIME_COMPONENT_VALTYPE_STRING: return "string";
    case WASMTIME_COMPONENT_VALTYPE_LIST:
      return "list<" + WitTypeName(type.list().element()) + ">";
    case WASMTIME_COMPONENT_VALTYPE_RECORD: {
      const auto& r = type.record();
      return "record{" + list(r.field_count(), [&](size_t i) {
               auto [name, t] = *r.field_nth(i);
               return std::string(name) + ": " + WitTypeName(t);
             }) + "}";
    }
    case WASMTIME_COMPONENT_VALTYPE_TUPLE: {
      const auto& t = type.tuple();
      return "tuple<" + list(t.types_count(), [&](size_t i) {
               return WitTypeName(*t.types_nth(i));
             }) + ">";
    }
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: {
      const auto& v = type.variant();
      return "variant{" + list(v.case_count(), [&](size_t i) {
               auto [name, t] = *v.case_nth(i);
               return std::string(name) + (t ? "(" + WitTypeName(*t) + ")" : "");
             }) + "}";
    }
    case WASMTIME_COMPONENT_VALTYPE_ENUM: {
      const auto& e = type.enum_();
      return "enum{" + list(e.names_count(), [&](size_t i) {
               return std::string(*e.names_nth(i));
             }) + "}";
    }
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
      return "option<" + WitTypeName(type.option().ty()) + ">";
    case WASMTIME_COMPONENT_VALTYPE_RESULT: {
      const auto& r = type.result();
      auto ok = r.ok(), err = r.err();
      if (!ok && !err) return "result";
      return "result<" + (ok ? WitTypeName(*ok) : "_") +
             (err ? ", " + WitTypeName(*err) : "") + ">";
    }
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: {
      const auto& f = type.flags();
      return "flags{" + list(f.names_count(), [&](size_t i) {
               return std::string(*f.names_nth(i));
             }) + "}";
    }
    case WASMTIME_COMPONENT_VALTYPE_OWN: return "own<resource>";
    case WASMTIME_COMPONENT_VALTYPE_BORROW: return "borrow<resource>";
    case WASMTIME_COMPONENT_VALTYPE_FUTURE: return "future";
    case WASMTIME_COMPONENT_VALTYPE_STREAM: return "stream";
    case WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT: return "error-context";
    default: return "map";
  }
}

Result<Val> WitFromJson(const json& value, const ValType& type,
                        const std::string& where) {
  switch (type.kind()) {
    case WASMTIME_COMPONENT_VALTYPE_BOOL:
      if (!value.is_boolean()) return Mismatch(where, type, value);
      return Val(value.get<bool>());
    case WASMTIME_COMPONENT_VALTYPE_S8: return IntFromJson<int8_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_S16: return IntFromJson<int16_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_S32: return IntFromJson<int32_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_S64: return IntFromJson<int64_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_U8: return IntFromJson<uint8_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_U16: return IntFromJson<uint16_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_U32: return IntFromJson<uint32_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_U64: return IntFromJson<uint64_t>(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_F32:
      if (!value.is_number()) return Mismatch(where, type, value);
      return Val(value.get<float>());
    case WASMTIME_COMPONENT_VALTYPE_F64:
      if (!value.is_number()) return Mismatch(where, type, value);
      return Val(value.get<double>());
    case WASMTIME_COMPONENT_VALTYPE_CHAR: {
      auto code = value.is_string() ? OneCodePoint(value.get<std::string>())
                                    : std::nullopt;
      if (!code) return Mismatch(where, type, value);
      return Val::char_(*code);
    }
    case WASMTIME_COMPONENT_VALTYPE_STRING:
      if (!value.is_string()) return Mismatch(where, type, value);
      return Val::string(value.get_ref<const std::string&>());
    case WASMTIME_COMPONENT_VALTYPE_LIST: {
      if (!value.is_array()) return Mismatch(where, type, value);
      ValType element = type.list().element();
      std::vector<Val> items;
      for (size_t i = 0; i < value.size(); ++i) {
        auto item = WitFromJson(value[i], element, where + "[" + std::to_string(i) + "]");
        if (!item.ok()) return item.status();
        items.push_back(std::move(*item));
      }
      return Val(wasmtime::component::List(std::move(items)));
    }
    case WASMTIME_COMPONENT_VALTYPE_TUPLE: {
      const auto& tuple = type.tuple();
      if (!value.is_array() || value.size() != tuple.types_count()) {
        return Mismatch(where, type, value);
      }
      std::vector<Val> items;
      for (size_t i = 0; i < value.size(); ++i) {
        auto item = WitFromJson(value[i], *tuple.types_nth(i),
                                where + "[" + std::to_string(i) + "]");
        if (!item.ok()) return item.status();
        items.push_back(std::move(*item));
      }
      return Val(wasmtime::component::Tuple(std::move(items)));
    }
    case WASMTIME_COMPONENT_VALTYPE_RECORD: return RecordFromJson(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: return VariantFromJson(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_ENUM: {
      const auto& cases = type.enum_();
      if (value.is_string()) {
        for (size_t i = 0; i < cases.names_count(); ++i) {
          if (*cases.names_nth(i) == value.get_ref<const std::string&>()) {
            return Val::enum_(*cases.names_nth(i));
          }
        }
      }
      return Mismatch(where, type, value);
    }
    case WASMTIME_COMPONENT_VALTYPE_OPTION: return OptionFromJson(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_RESULT: return ResultFromJson(value, type, where);
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: {
      const auto& names = type.flags();
      if (!value.is_array()) return Mismatch(where, type, value);
      std::vector<wasmtime::component::Flag> set;
      for (const json& flag : value) {
        bool known = false;
        for (size_t i = 0; i < names.names_count(); ++i) {
          known |= flag.is_string() && *names.names_nth(i) == flag.get_ref<const std::string&>();
        }
        if (!known) return Mismatch(where, type, value);
        set.emplace_back(flag.get_ref<const std::string&>());
      }
      return Val(wasmtime::component::Flags(std::move(set)));
    }
    default:
      return Status(ErrorCode::kInvalidArgument,
                    where + ": " + WitTypeName(type) +
                        " cannot be passed as JSON");
  }
}

nlohmann::ordered_json WitToJson(const Val& value) {
  using json = nlohmann::ordered_json;
  const wasmtime_component_val_t& raw = *Val::to_capi(&value);
  switch (raw.kind) {
    case WASMTIME_COMPONENT_BOOL: return value.get_bool();
    case WASMTIME_COMPONENT_S8: return value.get_s8();
    case WASMTIME_COMPONENT_U8: return value.get_u8();
    case WASMTIME_COMPONENT_S16: return value.get_s16();
    case WASMTIME_COMPONENT_U16: return value.get_u16();
    case WASMTIME_COMPONENT_S32: return value.get_s32();
    case WASMTIME_COMPONENT_U32: return value.get_u32();
    case WASMTIME_COMPONENT_S64: return value.get_s64();
    case WASMTIME_COMPONENT_U64: return value.get_u64();
    case WASMTIME_COMPONENT_F32: return value.get_f32();
    case WASMTIME_COMPONENT_F64: return value.get_f64();
    case WASMTIME_COMPONENT_CHAR: return Utf8(raw.of.character);
    case WASMTIME_COMPONENT_STRING: return std::string(value.get_string());
    case WASMTIME_COMPONENT_LIST: {
      json out = json::array();
      for (const Val& item : value.get_list()) out.push_back(WitToJson(item));
      return out;
    }
    case WASMTIME_COMPONENT_TUPLE: {
      json out = json::array();
      for (const Val& item : value.get_tuple()) out.push_back(WitToJson(item));
      return out;
    }
    case WASMTIME_COMPONENT_RECORD: {
      json out = json::object();
      for (const auto& field : value.get_record()) {
        out[std::string(field.name())] = WitToJson(field.value());
      }
      return out;
    }
    case WASMTIME_COMPONENT_VARIANT: {
      const auto& variant = value.get_variant();
      const Val* payload = variant.value();
      return json{{std::string(variant.discriminant()),
                   payload ? WitToJson(*payload) : json()}};
    }
    case WASMTIME_COMPONENT_ENUM: return std::string(value.get_enum());
    case WASMTIME_COMPONENT_OPTION: {
      const Val* some = value.get_option().value();
      return some ? json{{"some", WitToJson(*some)}} : json{{"none", nullptr}};
    }
    case WASMTIME_COMPONENT_RESULT: {
      const auto& result = value.get_result();
      const Val* payload = result.payload();
      return json{{result.is_ok() ? "ok" : "err",
                   payload ? WitToJson(*payload) : json()}};
    }
    case WASMTIME_COMPONENT_FLAGS: {
      json out = json::array();
      for (const auto& flag : value.get_flags()) out.push_back(std::string(flag.name()));
      return out;
    }
    default: return "<resource>";
  }
}

}  // namespace strata
