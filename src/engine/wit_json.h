// JSON <-> WIT values, for calling a component's exported functions with
// JSON arguments and returning its result as JSON (docs/COMPONENTS.md):
//   bool, integers, floats   JSON booleans and numbers (range-checked)
//   char, string             JSON strings (a char is one code point)
//   list<T>, tuple<...>      arrays
//   record                   objects keyed by field name
//   enum                     the case name as a string
//   flags                    an array of the set flags' names
//   variant                  {"case": payload} (payload null when it has none)
//   option<T>                {"some": value} or {"none": null}; null is
//                            accepted for none, and a bare value for some
//                            when T is not itself an option
//   result<T, E>             {"ok": value} or {"err": value}
// Resources, futures, streams and maps are not supported.
#ifndef STRATA_ENGINE_WIT_JSON_H_
#define STRATA_ENGINE_WIT_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <wasmtime.hh>
#include <wasmtime/component.hh>

#include "strata/status.h"

namespace strata {

// The WIT spelling of `type`, e.g. "result<record{url: string}, u64>".
std::string WitTypeName(const wasmtime::component::ValType& type);

// `json` as a value of `type`. On a mismatch, kInvalidArgument reading
// "<where>: expected <WIT type>, got <JSON>", `where` naming the parameter
// and the path inside it ("parameter 'mode'", "parameter 'a'[2].url").
Result<wasmtime::component::Val> WitFromJson(
    const nlohmann::json& json, const wasmtime::component::ValType& type,
    const std::string& where);

// Record fields keep their WIT order.
nlohmann::ordered_json WitToJson(const wasmtime::component::Val& value);

}  // namespace strata

#endif  // STRATA_ENGINE_WIT_JSON_H_
