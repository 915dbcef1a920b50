#!/usr/bin/env bash
# Runs the export benchmark (not part of the tests): bench/run.sh [--events 1000000] [--data DIR],
# then the per-record stage costs and the OpenSearch client benchmark.
# Installs jq for the peer comparison when missing. Results: a table on stdout and bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
dotnet build bench/ExportsPS.Bench -c Release -v quiet -nologo >/dev/null
dotnet bench/ExportsPS.Bench/bin/Release/net10.0/ExportsPS.Bench.dll --peer --json bench/results.json "$@"
# What one record costs each stage (BenchmarkDotNet, in process, ~75 s): which stage the seconds above go to.
dotnet bench/ExportsPS.Bench/bin/Release/net10.0/ExportsPS.Bench.dll --records 2>&1 | grep -E '^\|'
# The OpenSearch client alone against canned pages on loopback: hits/s and slice scaling.
dotnet bench/ExportsPS.Bench/bin/Release/net10.0/ExportsPS.Bench.dll --opensearch 200
