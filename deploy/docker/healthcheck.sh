#!/usr/bin/env bash
# Container health probe that needs neither curl nor wget (the .NET and CUDA runtime images have neither):
# GET http://127.0.0.1:<port><path> through bash's /dev/tcp; healthy (exit 0) only on a 200 answer.
# Usage: healthcheck.sh [path] [port]   defaults: /health/ready and $HEALTHCHECK_PORT, else 8080.
set -euo pipefail
path="${1:-/health/ready}"
port="${2:-${HEALTHCHECK_PORT:-8080}}"
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS=' ' read -r -t 5 _ status _ <&3
[ "$status" = "200" ]
