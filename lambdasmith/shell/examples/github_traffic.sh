# shellcheck shell=bash
# github_traffic.run: ?repo=owner/name → the repository's page views of the last 14 days
#   {repository, total_views, unique_visitors, last_14_days: [{date, views, unique}],
#    summary: {avg_daily_views, peak_day}}
# from GET ${GITHUB_API_URL:-https://api.github.com}/repos/{repo}/traffic/views with a GitHub token:
# $GITHUB_TOKEN, or else the Secrets Manager secret named by $GITHUB_TOKEN_SECRET, read at run time
# (helpers.sh secret_string; on AWS the stack sets this one). 400 without a valid repo, 500 without
# a token, 502 (with the upstream status) when GitHub fails.
for _h in "${BASH_SOURCE[0]%/*}/helpers.sh" "${BASH_SOURCE[0]%/*}/../runtime/helpers.sh" /opt/helpers.sh; do
  [[ -f $_h ]] && { source "$_h"; break; }
done
declare -F respond_json >/dev/null || { echo "github_traffic.sh: helpers.sh not found" >&2; return 1; }

run() {
  event_init
  local repo
  repo=$(event_query repo)
  # GitHub's names: an owner of 1-39 letters, digits and inner hyphens; a repo of 1-100 letters,
  # digits, `.`, `_`, `-` that is not `.` or `..` (which would climb out of /repos/{owner}/).
  if [[ ! $repo =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?/[A-Za-z0-9_.-]{1,100}$ || ${repo#*/} == . || ${repo#*/} == .. ]]; then
    respond_json 400 '{"error":"query parameter repo=owner/name is required"}'
    return
  fi
  local token=${GITHUB_TOKEN:-}
  if [[ -z $token && -n ${GITHUB_TOKEN_SECRET:-} ]]; then
    token=$(secret_string "$GITHUB_TOKEN_SECRET") || token=""
  fi
  if [[ -z $token ]]; then
    log "github_traffic: no GitHub token (GITHUB_TOKEN, or a readable GITHUB_TOKEN_SECRET)"
    respond_json 500 '{"error":"no GitHub token is configured"}'
    return
  fi
  local url="${GITHUB_API_URL:-https://api.github.com}"
  url="${url%/}/repos/$repo/traffic/views"
  local reply code
  # The token goes to curl on stdin (-H @-), not on its command line.
  reply=$(printf 'Authorization: Bearer %s\n' "$token" | curl -sS --max-time 10 \
    -H @- -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28' \
    -H 'User-Agent: lambdasmith-shell' -w '\n%{http_code}' "$url")
  code=${reply##*$'\n'}
  reply=${reply%$'\n'*}
  if [[ $code != 200 ]]; then
    log "github_traffic: GET $url answered ${code:-000}"
    respond_json 502 "$(jq -nc --arg s "${code:-0}" --arg body "$reply" '
      {error: "upstream error", upstream_status: ($s | tonumber),
       message: (($body | fromjson? | .message?) // null)}')"
    return
  fi
  local summary
  if ! summary=$(jq -c --arg repo "$repo" '
      if type == "object" then . else error("not an object") end
      | . as $r
      | [(.views // [])[] | {date: (.timestamp | split("T")[0]), views: (.count // 0), unique: (.uniques // 0)}]
      | .[-14:] as $days
      | ($days | length) as $n
      | { repository: $repo,
          total_views: ($r.count // ($days | map(.views) | add) // 0),
          unique_visitors: ($r.uniques // 0),
          last_14_days: $days,
          summary: {
            avg_daily_views: (if $n == 0 then 0 else (($days | map(.views) | add) / $n * 100 | round) / 100 end),
            peak_day: (if $n == 0 then null else ($days | sort_by(-.views) | first | .date) end) } }
    ' <<<"$reply" 2>/dev/null); then
    respond_json 502 '{"error":"upstream answered a body that is not traffic views","upstream_status":200}'
    return
  fi
  respond_json 200 "$summary"
}
