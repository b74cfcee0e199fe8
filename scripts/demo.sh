#!/usr/bin/env bash
# The five-minute tour: a sandbox with a believable shop, a plan, an apply, and a clean re-plan.
# tether acts with the shop's own app "Lumen Ops": it cancels what Lumen Ops owns, and says what
# this token cannot see (another app's webhooks) or cannot cancel (another app's carrier service,
# the other app itself), with the way to do it by hand.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port=8787
work="$root/demo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if python -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1',$port))==0 else 1)"; then
  echo "Port $port is in use; stop whatever listens there (an earlier sandbox?) and run make demo again." >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"
cd "$work"

say "Starting the sandbox: emulated Shopify, Amazon SP-API, eBay and Stripe on 127.0.0.1:$port"
tether sandbox serve --port "$port" --scenario demo > "$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  python -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1',$port))==0 else 1)" && break
  sleep 0.1
done

say "tether init --example demo"
tether init --example demo
export DEMO_SHOPIFY_TOKEN='shpat_demo_admin'
export DEMO_LWA_CLIENT_ID='amzn1.application-oa2-client.demo'
export DEMO_LWA_CLIENT_SECRET='demo-secret'
export DEMO_LWA_REFRESH_TOKEN='Atzr|demo'
export DEMO_EBAY_TOKEN='v^1.1#demo'
export DEMO_STRIPE_KEY='sk_test_demo'
export DEMO_SHIPCLOUD_TOKEN='demo-token'

say "tether validate"
tether validate

say "tether plan --out demo.plan   (read-only: nothing changes yet)"
tether plan --out demo.plan

say "tether apply demo.plan   (each cancel: backup, cancel, verify)"
tether apply demo.plan

say "tether plan --detailed-exitcode   (after a successful apply: no changes, exit 0)"
tether plan --detailed-exitcode
echo "exit code: $?   (what remains is for a person: the manual steps and what this token cannot see)"

say "tether audit   (the nightly report: exit 2 while manual steps and unverifiable findings remain)"
audit=0
tether audit || audit=$?
echo "exit code: $audit"

say "tether backups list"
tether backups list

say "tether state list"
tether state list

say "Done. Everything is in $work (tether.yaml, .tether/state.json, .tether/backups/)."
