# shellcheck shell=bash
# Helpers a bash Lambda handler sources (needs jq). The bootstrap gives the handler the event on
# stdin and sends its stdout as the response; stderr goes to the log.
#
#   source helpers.sh
#   run() {
#     event_init                                  # read the event from stdin, once
#     respond 200 "hello $(event_query name)" content-type=text/plain
#   }
#
# Call event_init in the handler's own shell, before any $(event_…): a command substitution is a
# subshell, and an event read there would be lost to the rest of the handler.
#
# Works with payload 2.0 (Function URL, HTTP API) and payload 1.0 (REST API) events.

EVENT=""
_EVENT_READY=""

# event_init: read the event from stdin into $EVENT and its common fields into variables
# (EVENT_METHOD, EVENT_PATH, EVENT_SOURCE_IP, EVENT_USER_AGENT, EVENT_IS_BASE64) with one jq.
event_init() {
  [[ -n $_EVENT_READY ]] && return 0
  EVENT=$(cat)
  _EVENT_READY=1
  EVENT_METHOD="" EVENT_PATH="" EVENT_SOURCE_IP="" EVENT_USER_AGENT="" EVENT_IS_BASE64=false
  local fields
  fields=$(jq -r '
    if type == "object" then . else {} end
    | (.requestContext // {}) as $rc
    | [ ($rc.http.method // .httpMethod // ""),
        ($rc.http.path // .rawPath // .path // ""),
        ($rc.http.sourceIp // $rc.identity.sourceIp // ""),
        ($rc.http.userAgent // $rc.identity.userAgent
           // ((.headers // {}) | with_entries(.key |= ascii_downcase) | .["user-agent"]) // ""),
        (.isBase64Encoded == true) ]
    | @sh "EVENT_METHOD=\(.[0]) EVENT_PATH=\(.[1]) EVENT_SOURCE_IP=\(.[2]) EVENT_USER_AGENT=\(.[3]) EVENT_IS_BASE64=\(.[4])"
  ' <<<"$EVENT" 2>/dev/null) || { log "event_init: the event is not JSON"; return 0; }
  eval "$fields"
}

_event_need() {
  [[ -n $_EVENT_READY ]] && return 0
  log "helpers.sh: call event_init before reading the event"
  return 2
}

# event_method, event_path, event_source_ip, event_user_agent: print the field (no newline).
event_method() { _event_need && printf '%s' "$EVENT_METHOD"; }
event_path() { _event_need && printf '%s' "$EVENT_PATH"; }
event_source_ip() { _event_need && printf '%s' "$EVENT_SOURCE_IP"; }
event_user_agent() { _event_need && printf '%s' "$EVENT_USER_AGENT"; }

# event_query NAME: the query-string parameter NAME (empty when absent).
event_query() {
  _event_need || return
  jq -j --arg n "$1" '(.queryStringParameters // {})[$n] // ""' <<<"$EVENT"
}

# event_header NAME: the request header NAME, matched case-insensitively (empty when absent).
event_header() {
  _event_need || return
  jq -j --arg n "$1" '
    ($n | ascii_downcase) as $n
    | [(.headers // {}) | to_entries[] | select(.key | ascii_downcase == $n) | .value | tostring]
    | first // ""' <<<"$EVENT"
}

# event_body: the request body, base64-decoded when isBase64Encoded (binary-safe on stdout).
event_body() {
  _event_need || return
  if [[ $EVENT_IS_BASE64 == true ]]; then
    jq -j '.body // ""' <<<"$EVENT" | base64 -d
  else
    jq -j '.body // ""' <<<"$EVENT"
  fi
}

# event_get FILTER: any jq filter on the event, compact output (e.g. event_get .cookies).
event_get() {
  _event_need || return
  jq -c "$1" <<<"$EVENT"
}

# respond STATUS BODY [NAME=VALUE …]: print a Function URL response with a text body
# (content-type text/plain unless a header says otherwise).
respond() {
  local status=$1 body=$2
  shift 2
  printf '%s' "$body" | jq -c -Rs --arg s "$status" '
    (reduce ($ARGS.positional[] | (index("=") // error("respond: header \(.) is not NAME=VALUE")) as $i
            | [.[:$i], .[$i + 1:]]) as [$k, $v] ({}; .[$k] = $v)) as $headers
    | { statusCode: ($s | tonumber),
        headers: (if any($headers | keys[]; ascii_downcase == "content-type") then $headers
                  else {"content-type": "text/plain; charset=utf-8"} + $headers end),
        body: . }' --args "$@"
}

# respond_json STATUS JSON [NAME=VALUE …]: print a Function URL response whose body is JSON
# (content-type application/json unless a header says otherwise). Fails on invalid JSON.
respond_json() {
  local status=$1 json=$2
  shift 2
  printf '%s' "$json" | jq -c -s --arg s "$status" '
    if length != 1 then error("respond_json: expected one JSON value") else .[0] end
    | . as $json
    | (reduce ($ARGS.positional[] | (index("=") // error("respond: header \(.) is not NAME=VALUE")) as $i
            | [.[:$i], .[$i + 1:]]) as [$k, $v] ({}; .[$k] = $v)) as $headers
    | { statusCode: ($s | tonumber),
        headers: (if any($headers | keys[]; ascii_downcase == "content-type") then $headers
                  else {"content-type": "application/json"} + $headers end),
        body: ($json | tojson) }' --args "$@"
}

# log MESSAGE…: one line on stderr (the function's log).
log() { printf '%s\n' "$*" >&2; }
