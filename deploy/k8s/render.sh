#!/usr/bin/env bash
# Renders deploy/helm/dongfeng into plain manifests, one file per object kind, in DIR (default
# deploy/k8s): `kubectl apply -f deploy/k8s/` then deploys two gateways in the namespace
# "dongfeng". The Secret is yours to make first (the chart's values never hold it here):
#   kubectl create namespace dongfeng
#   kubectl -n dongfeng create secret generic dongfeng-secrets --from-literal=admin-token="$(openssl rand -hex 24)"
# Tests/deploy/check.sh renders again and fails when the committed files differ.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-deploy/k8s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
helm template dongfeng deploy/helm/dongfeng --namespace dongfeng \
  --set secrets.existingSecret=dongfeng-secrets --output-dir "$tmp" >/dev/null
mkdir -p "$out"
for f in "$tmp"/dongfeng/templates/*.yaml; do
  name=$(basename "$f")
  { echo "# Rendered from deploy/helm/dongfeng/templates/$name by deploy/k8s/render.sh: do not edit."; sed '/^# Source: /d' "$f"; } >"$out/$name"
done
cat >"$out/namespace.yaml" <<'YAML'
# Rendered by deploy/k8s/render.sh: the namespace the manifests live in.
apiVersion: v1
kind: Namespace
metadata:
  name: dongfeng
  labels:
    pod-security.kubernetes.io/enforce: restricted
YAML
