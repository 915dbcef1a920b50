#!/usr/bin/env bash
# Runs every test suite (engine, module in a hosted PowerShell engine, services when configured) and
# prints one summary line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
results=$(mktemp -d)
dotnet build ExportsPS.sln -c Debug -v quiet -nologo >/dev/null || { echo "build failed"; dotnet build ExportsPS.sln -c Debug -nologo | grep -E 'error' | head -30; exit 1; }
status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" --no-build -c Debug --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    -- RunConfiguration.TreatNoTestsAsError=true || status=1
done
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {'t': 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010'}
passed = failed = skipped = 0
for trx in glob.glob(sys.argv[1] + '/*.trx'):
    c = ET.parse(trx).getroot().find('t:ResultSummary/t:Counters', ns)
    passed += int(c.get('passed')); failed += int(c.get('failed')) + int(c.get('error')) + int(c.get('timeout'))
    skipped += int(c.get('notExecuted'))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
rm -rf "$results"
exit $status
