#!/usr/bin/env bash
# Posts a test result signed the way BadgeSmith's test-ingestion.sh signs it: openssl HMAC-SHA256
# of the raw body file, a uuidgen nonce, a millisecond UTC timestamp. Prints the HTTP status on
# stdout and the response body on stderr.
# usage: sign_like_badgesmith.sh URL SECRET BODY_FILE [NONCE]
set -euo pipefail
url=$1 secret=$2 body_file=$3
signature=$(openssl dgst -sha256 -hmac "$secret" -hex < "$body_file" | sed 's/^.*= *//')
nonce=${4:-$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)}
timestamp=$(date -u +"%Y-%m-%dT%H:%M:%S.%3NZ")
curl -sS -o /dev/stderr -w '%{http_code}' -X POST "$url" \
  -H "Content-Type: application/json" \
  -H "X-Signature: sha256=$signature" \
  -H "X-Timestamp: $timestamp" \
  -H "X-Nonce: $nonce" \
  --data-binary @"$body_file"
