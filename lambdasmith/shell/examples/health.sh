# shellcheck shell=bash
# health.run: 200 {"status":"ok","time":"<UTC ISO-8601>"}.
# helpers.sh: beside this file (the function zip), else ../runtime/ (this repository), else /opt (a layer).
for _h in "${BASH_SOURCE[0]%/*}/helpers.sh" "${BASH_SOURCE[0]%/*}/../runtime/helpers.sh" /opt/helpers.sh; do
  [[ -f $_h ]] && { source "$_h"; break; }
done
declare -F respond_json >/dev/null || { echo "health.sh: helpers.sh not found" >&2; return 1; }

run() {
  local now time
  TZ=UTC printf -v now '%(%Y-%m-%dT%H:%M:%SZ)T' -1  # a builtin: no process for the clock
  json_quote time "$now"
  respond_json 200 "{\"status\":\"ok\",\"time\":$time}"
}
