#!/usr/bin/env bash
# Runs every test suite (engine, module in a hosted PowerShell engine, services when configured) and
# prints one summary line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
results=$(mktemp -d)
export EXPORTSPS_RELIABILITY_REPORT="$results/reliability.txt"
dotnet build ExportsPS.sln -c Debug -v quiet -nologo >/dev/null || { echo "build failed"; dotnet build ExportsPS.sln -c Debug -nologo | grep -E 'error' | head -30; exit 1; }
status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" --no-build -c Debug --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    -- RunConfiguration.TreatNoTestsAsError=true || status=1
done
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed) + $(get error) + $(get timeout)))
  # The trx counters leave notExecuted at 0 for a skipped xunit test: a skip is a test counted but not executed.
  skipped=$((skipped + $(get total) - $(get executed)))
done
if [ -s "$EXPORTSPS_RELIABILITY_REPORT" ]; then
  echo "== reliability: what was tried"
  sort "$EXPORTSPS_RELIABILITY_REPORT"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || status=1
rm -rf "$results"
exit $status
