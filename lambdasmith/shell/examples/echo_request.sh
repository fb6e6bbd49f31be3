# shellcheck shell=bash
# echo_request.run: the request as the function saw it — method, path, query, source IP, user agent.
for _h in "${BASH_SOURCE[0]%/*}/helpers.sh" "${BASH_SOURCE[0]%/*}/../runtime/helpers.sh" /opt/helpers.sh; do
  [[ -f $_h ]] && { source "$_h"; break; }
done
declare -F respond_json >/dev/null || { echo "echo_request.sh: helpers.sh not found" >&2; return 1; }

run() {
  event_init
  respond_json 200 "$(jq -c \
    --arg method "$EVENT_METHOD" --arg path "$EVENT_PATH" \
    --arg ip "$EVENT_SOURCE_IP" --arg ua "$EVENT_USER_AGENT" '
    { method: $method, path: $path,
      query: (if type == "object" then .queryStringParameters // {} else {} end),
      raw_query: (if type == "object" then .rawQueryString // "" else "" end),
      source_ip: $ip, user_agent: $ua }' <<<"$EVENT")"
}
