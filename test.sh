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
#   docker-compose: the deployment tests render the Compose files with `docker-compose config` (no engine needed).
# The deployment tests also render deploy/k8s with `kubectl kustomize`; that needs kubectl 1.21 or later (kustomize
# v4+), which this machine kind has in /usr/bin. Debian's own kubernetes-client (1.20) is too old for the manifests.
packages=(postgresql chromium prometheus wrk docker-compose)
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
