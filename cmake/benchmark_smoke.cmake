# Runs a Google Benchmark binary once with a tiny minimum time and fails if
# it exits non-zero or if any benchmark reported an error (SkipWithError
# exits 0, so its JSON is checked). Usage:
#   cmake -DBENCHMARK=<binary> -P benchmark_smoke.cmake
execute_process(
  COMMAND "${BENCHMARK}" --benchmark_min_time=0.001 --benchmark_format=json
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BENCHMARK} exited with ${rc}:\n${err}")
endif()
string(REGEX MATCHALL "\"error_message\": \"[^\"]*\"" errors "${out}")
if(errors)
  message(FATAL_ERROR "${BENCHMARK}: a benchmark reported an error: ${errors}")
endif()
message(STATUS "${BENCHMARK}: every benchmark ran")
