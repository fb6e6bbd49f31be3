#!/usr/bin/env bash
# A bash + curl custom-runtime bootstrap for the emulator's tests: GET next → POST the event back.
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
headers="$(mktemp)"
trap 'rm -f "$headers"' EXIT
while true; do
  event="$(curl -sS -D "$headers" "$API/invocation/next")"
  rid="$(tr -d '\r' < "$headers" | awk -F': ' 'tolower($1)=="lambda-runtime-aws-request-id" {print $2}')"
  echo "bash bootstrap got $rid" >&2
  printf '{"echo":%s,"handler":"%s"}' "$event" "$_HANDLER" |
    curl -sS -o /dev/null -X POST --data-binary @- "$API/invocation/$rid/response"
done
