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

# json_quote VAR TEXT: set VAR to TEXT as a JSON string literal. Pure bash (no process per call):
# a response is built on every invocation, and starting jq costs more than the handler's work.
json_quote() {
  local s=$2 c hex ch
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
    for ((c = 1; c < 32; c++)); do
      printf -v hex '%02x' "$c"
      printf -v ch "\\x$hex"
      s=${s//"$ch"/\\u00$hex}
    done
  fi
  printf -v "$1" '"%s"' "$s"
}

# _response STATUS BODY_LITERAL DEFAULT_TYPE [NAME=VALUE …]: the Function URL response object.
_response() {
  local status=$1 body=$2 default_type=$3 headers="" has_type="" pair k v
  shift 3
  [[ $status =~ ^[0-9]{3}$ ]] || { log "respond: status '$status' is not a 3-digit number"; return 1; }
  for pair in "$@"; do
    [[ $pair == *=* ]] || { log "respond: header '$pair' is not NAME=VALUE"; return 1; }
    [[ ${pair%%=*} =~ ^[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Yy][Pp][Ee]$ ]] && has_type=1
    json_quote k "${pair%%=*}"
    json_quote v "${pair#*=}"
    headers+="${headers:+,}$k:$v"
  done
  [[ -n $has_type ]] || { json_quote v "$default_type"; headers="\"content-type\":$v${headers:+,}$headers"; }
  printf '{"statusCode":%d,"headers":{%s},"body":%s}\n' "$((10#$status))" "$headers" "$body"
}

# respond STATUS BODY [NAME=VALUE …]: print a Function URL response with a text body
# (content-type text/plain; charset=utf-8 unless a header says otherwise).
respond() {
  local body
  json_quote body "$2"
  _response "$1" "$body" "text/plain; charset=utf-8" "${@:3}"
}

# respond_json STATUS JSON [NAME=VALUE …]: print a Function URL response whose body is JSON
# (content-type application/json unless a header says otherwise). JSON is the caller's to get
# right (build it with jq, or json_quote each value); it is sent as given.
respond_json() {
  local body
  [[ -n $2 ]] || { log "respond_json: empty JSON"; return 1; }
  json_quote body "$2"
  _response "$1" "$body" "application/json" "${@:3}"
}

# log MESSAGE…: one line on stderr (the function's log).
log() { printf '%s\n' "$*" >&2; }

# secret_string NAME: print a Secrets Manager secret's SecretString, read when the handler runs
# (so a rotated secret arrives without a deploy, and the value never sits in the function's
# configuration) through AWS's Parameters and Secrets Lambda Extension, a layer that signs the
# call with the function's role and caches the value (SECRETS_MANAGER_TTL, 300 s by default) on
# localhost:${PARAMETERS_SECRETS_EXTENSION_HTTP_PORT:-2773}. Non-zero, with a log line, on failure.
secret_string() {
  local name=$1 reply code
  [[ -n $name ]] || { log "secret_string: no secret name"; return 2; }
  # The session token goes to curl on stdin (-H @-), not on its command line.
  reply=$(printf 'X-Aws-Parameters-Secrets-Token: %s\n' "${AWS_SESSION_TOKEN:-}" | curl -sS --max-time 5 \
      -H @- -G --data-urlencode "secretId=$name" -w '\n%{http_code}' \
      "http://localhost:${PARAMETERS_SECRETS_EXTENSION_HTTP_PORT:-2773}/secretsmanager/get" 2>/dev/null) || {
    log "secret_string: $name: the secrets extension does not answer (is its layer on the function?)"
    return 1
  }
  code=${reply##*$'\n'}
  reply=${reply%$'\n'*}
  [[ $code == 200 ]] || { log "secret_string: $name: the secrets extension answered $code"; return 1; }
  jq -je '.SecretString // error("no SecretString")' <<<"$reply" 2>/dev/null || {
    log "secret_string: $name holds no SecretString"
    return 1
  }
}
