#!/bin/sh
# Creates the Temporal namespace that Firebreak uses and registers Firebreak's search attributes on it,
# so the Web UI can filter incidents by phase, severity, namespace, workload, node, rule and gate.
# It is safe to run on every start, because an existing namespace is kept and the server treats an
# attribute that already exists under the same name as done.
#
# Reads TEMPORAL_ADDRESS (the temporal CLI's own variable), TEMPORAL_NAMESPACE and
# TEMPORAL_NAMESPACE_RETENTION.
set -eu

attempt=0
until temporal operator cluster health | grep -qw SERVING; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 60 ]; then
    echo "temporal-setup: the Temporal frontend at $TEMPORAL_ADDRESS was not serving within 2 minutes" >&2
    exit 1
  fi
  echo "temporal-setup: waiting for the Temporal frontend at $TEMPORAL_ADDRESS"
  sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "temporal-setup: namespace $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"
  echo "temporal-setup: created namespace $TEMPORAL_NAMESPACE with retention $TEMPORAL_NAMESPACE_RETENTION"
fi

# A new namespace reaches the frontend's namespace cache within seconds, and until then the list call fails.
attempt=0
until temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 60 ]; then
    echo "temporal-setup: namespace $TEMPORAL_NAMESPACE did not become visible within 60 s" >&2
    exit 1
  fi
  echo "temporal-setup: waiting for namespace $TEMPORAL_NAMESPACE to become visible"
  sleep 1
done

temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
  --name FirebreakPhase --type Keyword \
  --name FirebreakSeverity --type Keyword \
  --name FirebreakNamespace --type Keyword \
  --name FirebreakWorkload --type Keyword \
  --name FirebreakNode --type Keyword \
  --name FirebreakRule --type Keyword \
  --name FirebreakGate --type Keyword \
  --name FirebreakAlertCount --type Int
echo "temporal-setup: Firebreak search attributes are registered on $TEMPORAL_NAMESPACE"
