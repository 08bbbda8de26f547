#!/usr/bin/env bash
# Forwards a Trivy image scan to Firebreak's generic alert endpoint (POST /v1/alerts).
#
#   trivy image --format json --quiet registry.example.com/shop/checkout@sha256:... \
#     | FIREBREAK_INTAKE_URL=http://firebreak-intake.firebreak.svc:8787 \
#       FIREBREAK_INTAKE_TOKEN_FILE=/var/run/secrets/firebreak/intake-token \
#       deploy/examples/trivy-forwarder.sh --namespace shop-prod --workload Deployment/checkout-api
#
# One scan becomes one alert for the image, named after the most severe finding: rule "Vulnerable image:
# critical findings" (priority Critical) or "Vulnerable image: high findings" (priority Error). Findings
# below --min-severity (default HIGH) are ignored, and a scan without findings at or above it sends
# nothing. The alert id is a hash of the image and its vulnerability ids, so a repeated scan with the
# same findings counts as a redelivery of the same alert, and a scan with new findings as a new alert.
#
# Requires bash, jq, curl and sha256sum. Options:
#   --namespace NS        Kubernetes namespace of the workload that runs the image
#   --workload KIND/NAME  owner workload, such as Deployment/checkout-api
#   --cluster NAME        cluster name, when Firebreak serves several clusters
#   --min-severity LEVEL  CRITICAL or HIGH (default HIGH)
#   --dry-run             print the request body and send nothing
# Environment: FIREBREAK_INTAKE_URL (base URL of the intake), and the bearer token in
# FIREBREAK_INTAKE_TOKEN or in the file named by FIREBREAK_INTAKE_TOKEN_FILE.
set -euo pipefail

namespace=''
workload=''
cluster=''
min_severity='HIGH'
dry_run=false

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace=${2:?--namespace needs a value}; shift 2 ;;
    --workload) workload=${2:?--workload needs a value}; shift 2 ;;
    --cluster) cluster=${2:?--cluster needs a value}; shift 2 ;;
    --min-severity) min_severity=${2:?--min-severity needs a value}; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage ;;
    *) echo "trivy-forwarder: unknown option $1" >&2; usage ;;
  esac
done

case "$min_severity" in
  CRITICAL | HIGH) ;;
  *) echo "trivy-forwarder: invalid --min-severity $min_severity: use CRITICAL or HIGH" >&2; exit 2 ;;
esac

scan=$(cat)
if ! jq -e '.SchemaVersion == 2 and (.ArtifactName | type == "string")' >/dev/null 2>&1 <<<"$scan"; then
  echo 'trivy-forwarder: standard input is not a Trivy JSON report (schema version 2): run trivy image --format json' >&2
  exit 1
fi

# Builds the generic alert, or prints nothing when no finding reaches the minimum severity.
# Attacker-influenced text (package names, titles) travels only inside JSON strings built by jq.
body=$(jq -c \
  --arg namespace "$namespace" \
  --arg workload "$workload" \
  --arg cluster "$cluster" \
  --arg minSeverity "$min_severity" \
  --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
  def rank: if . == "CRITICAL" then 2 elif . == "HIGH" then 1 else 0 end;
  ($minSeverity | rank) as $floor
  | [.Results[]?.Vulnerabilities[]? | select((.Severity | rank) >= $floor)] as $findings
  | if ($findings | length) == 0 then empty else
    ([$findings[].Severity | rank] | max) as $top
    | ([$findings[].VulnerabilityID] | unique) as $ids
    | (.Metadata.RepoDigests[0]? // .ArtifactName) as $image
    | {
        detector: "trivy",
        rule: (if $top == 2 then "Vulnerable image: critical findings" else "Vulnerable image: high findings" end),
        priority: (if $top == 2 then "Critical" else "Error" end),
        time: (.CreatedAt // $now),
        output: "\($ids | length) vulnerabilities at or above \($minSeverity) in \(.ArtifactName)",
        tags: ["trivy", "vulnerability", "container_image"],
        target: ({ image: $image }
          + (if $namespace != "" then { namespace: $namespace } else {} end)
          + (if $workload != "" then { workload: $workload } else {} end)
          + (if $cluster != "" then { cluster: $cluster } else {} end)),
        fields: {
          "trivy.artifact": .ArtifactName,
          "trivy.critical": ([$findings[] | select(.Severity == "CRITICAL")] | length),
          "trivy.high": ([$findings[] | select(.Severity == "HIGH")] | length),
          "trivy.fixable": ([$findings[] | select((.FixedVersion // "") != "")] | length),
          "trivy.vulnerabilities": ($ids[:50] | join(",")),
          "trivy.vulnerabilities_truncated": (($ids | length) > 50)
        },
        idSource: ([$image] + $ids | join("\n"))
      }
    end' <<<"$scan")

if [ -z "$body" ]; then
  echo "trivy-forwarder: no finding at or above $min_severity; nothing sent" >&2
  exit 0
fi

id_hash=$(jq -r '.idSource' <<<"$body" | sha256sum | cut -c1-32)
body=$(jq -c --arg id "trivy-$id_hash" 'del(.idSource) + { id: $id }' <<<"$body")

if [ "$dry_run" = true ]; then
  jq . <<<"$body"
  exit 0
fi

: "${FIREBREAK_INTAKE_URL:?set FIREBREAK_INTAKE_URL to the intake base URL, such as http://firebreak-intake.firebreak.svc:8787}"
token=${FIREBREAK_INTAKE_TOKEN:-}
if [ -z "$token" ] && [ -n "${FIREBREAK_INTAKE_TOKEN_FILE:-}" ]; then
  token=$(tr -d '\r\n' <"$FIREBREAK_INTAKE_TOKEN_FILE")
fi
if [ -z "$token" ]; then
  echo 'trivy-forwarder: missing token: set FIREBREAK_INTAKE_TOKEN or FIREBREAK_INTAKE_TOKEN_FILE' >&2
  exit 1
fi

# The token goes through a header file on standard input, so it never appears in the process list.
# curl retries 503 (Temporal unreachable) and honours the intake's Retry-After.
printf 'Authorization: Bearer %s\n' "$token" |
  curl --silent --show-error --fail-with-body --retry 5 --retry-max-time 120 \
    --header @- --header 'Content-Type: application/json' \
    --data-binary "$body" "${FIREBREAK_INTAKE_URL%/}/v1/alerts"
echo
