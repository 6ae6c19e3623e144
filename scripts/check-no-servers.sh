#!/usr/bin/env bash
# Fails when a test server under target/tmp outlives the tests (they stop with their process).
set -u
pattern="$(pwd)/target/tmp/mariadb/server-"
for _ in $(seq 1 300); do
  pgrep -f -- "$pattern" >/dev/null || exit 0
  sleep 0.1
done
echo "mage-migrate: test servers still running after the tests:" >&2
pgrep -af -- "$pattern" >&2
exit 1
