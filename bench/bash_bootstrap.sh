#!/usr/bin/env bash
# The peer of bench/shell.py: a custom runtime the way the AWS tutorial builds one — bash and
# curl, the handler file sourced once, then: curl next → call the function → curl the response.
set -euo pipefail
source "$LAMBDA_TASK_ROOT/${_HANDLER%%.*}.sh"
FUNCTION="${_HANDLER#*.}"
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HEADERS="$(mktemp)"
EVENT_FILE="$(mktemp)"
while true; do
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  REQUEST_ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  # From a file, not a pipe: a handler that never reads stdin would kill a `printf | fn` pipeline
  # (SIGPIPE, exit 141 under pipefail) and the bootstrap with it.
  printf '%s' "$EVENT" > "$EVENT_FILE"
  RESPONSE="$("$FUNCTION" < "$EVENT_FILE")"
  curl -sS -o /dev/null -X POST "$API/invocation/$REQUEST_ID/response" --data-binary "$RESPONSE"
done
