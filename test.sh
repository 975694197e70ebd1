#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine with the .NET 10 SDK: installs what the machine lacks, builds the
# solution in Release and runs all test projects. Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use (installed only when missing).
#   postgresql: the audit tests start their own throwaway server (initdb + pg_ctl on a loopback port).
#   chromium:   the web tests drive /usr/bin/chromium through Playwright (no browser download).
#   prometheus: the deployment tests run prometheus on loopback against the real services, and promtool on the
#               scrape config, rules and alert unit tests (deploy/prometheus).
#   wrk:        the load tool's tests run its wrk Lua script (multipart upload) against a real gateway.
packages=(postgresql chromium prometheus wrk)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Ecg2Af.sln -c Release -warnaserror
dotnet test Ecg2Af.sln -c Release --no-build --logger "console;verbosity=minimal" "$@"
