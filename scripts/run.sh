#!/usr/bin/env bash
# The README's "run" command: installs the packages, builds svc-registry and registryctl
# (Release, in build-release/), creates a local registry directory on first use (3 signer
# keys with quorum 2, trust roots, root key, tokens, an example payload), prints the next
# steps with the real paths, then runs the service in the foreground (Ctrl-C stops it).
#
#   scripts/run.sh
#   DATA_DIR=/tmp/reg BIND=127.0.0.1:19444 METRICS_ADDR=127.0.0.1:19909 scripts/run.sh
#
# Environment:
#   DATA_DIR          registry directory (default ./data, relative to the repository root)
#   BIND              API plane address (default 127.0.0.1:9444)
#   METRICS_ADDR      admin plane address (default 127.0.0.1:9909)
#   REGISTRY_STORAGE  sqlite (default: durable, under DATA_DIR) | memory (amnesia: forgets
#                     everything when the service stops, and writes no file)
#   BUILD_DIR         build directory (default build-release); JOBS: parallel build jobs.
#   LOG_FORMAT        json (default) | text
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DATA_DIR=${DATA_DIR:-./data}
BIND=${BIND:-127.0.0.1:9444}
METRICS_ADDR=${METRICS_ADDR:-127.0.0.1:9909}
BUILD_DIR=${BUILD_DIR:-build-release}
JOBS=${JOBS:-$(nproc)}
LOG_FORMAT=${LOG_FORMAT:-json}

say() { printf 'run: %s\n' "$*" >&2; }

bash scripts/setup.sh >&2

say "building svc-registry and registryctl in $BUILD_DIR (Release)"
# Release at -O2: Debian 12's GCC 12 reports false -Wrestrict errors at -O3 on std::string
# concatenation (GCC bug 105651), and warnings are errors in this project.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DREGISTRY_BUILD_TESTS=OFF -DREGISTRY_BUILD_BENCH=OFF >&2
ninja -C "$BUILD_DIR" -j "$JOBS" svc-registry registryctl >&2
SVC="$ROOT/$BUILD_DIR/apps/svc-registry/svc-registry"
CTL="$ROOT/$BUILD_DIR/apps/registryctl/registryctl"

if [ ! -e "$DATA_DIR/trust_roots.json" ]; then
  say "creating a local registry in $DATA_DIR"
  "$CTL" init --dir "$DATA_DIR" --signers 3 --quorum 2 >&2
else
  say "using the existing registry in $DATA_DIR"
fi

# sqlite (durable, the default) unless the operator asks for memory (amnesia).
STORAGE=${REGISTRY_STORAGE:-sqlite}

# What the next steps need, read from the registry directory.
case "$DATA_DIR" in
  /*) D=$DATA_DIR ;;
  *) D=${DATA_DIR#./} ;;
esac
URL="http://$BIND"
ADMIN_URL="http://$METRICS_ADDR"
EXAMPLE="$D/example-payload.json"
{ read -r B3 && read -r ID; } < <("$CTL" hash --proposal-id "$EXAMPLE")
mapfile -t SIGNERS < <(python3 - "$DATA_DIR/trust_roots.json" <<'EOF'
import json, sys
roots = json.load(open(sys.argv[1]))
print(roots["quorum"]["m"])
for s in roots["signers"]:
    print(s["id"])
EOF
)
M=${SIGNERS[0]}
# The first M signers approve; init names signer i's key signers/signer-<i>.key.
approve_lines=""
curl_approve_lines=""
for i in $(seq "$M"); do
  key="$D/signers/signer-$i.key"
  approve_lines+="  registryctl approve $ID --key $key --signer-id ${SIGNERS[$i]}"$'\n'
  # shellcheck disable=SC2016 # $ctl and $(cat ...) are for the reader's shell
  printf -v line '  $ctl sign --key %s --signer-id %s --payload-b3 %s |\n    curl -sS -X POST %s -H %s \\\n      -H "Authorization: Bearer $(cat %s)" --data-binary @-; echo\n' \
    "$key" "${SIGNERS[$i]}" "$B3" "$URL/registry/approvals/$ID" \
    "'Content-Type: application/json'" "$D/tokens/approve.token"
  curl_approve_lines+=$line
done

cat <<EOF

==============================================================================
svc-registry: API $URL, admin $ADMIN_URL, storage $STORAGE, data $DATA_DIR
EOF
if [ "$STORAGE" = memory ]; then
  cat <<EOF
(memory storage: every version is forgotten when the service stops; unset
 REGISTRY_STORAGE for the durable sqlite default.)
EOF
fi
cat <<EOF

Next steps, in another terminal (copy and paste; the trust roots need $M approvals).
The example payload is version 1 on an empty registry; for a later version, copy it and
set "version" to HEAD + 1 and "prev_hash" to HEAD's payload_b3 (registryctl head).

  cd $ROOT
  export PATH="$ROOT/$BUILD_DIR/apps/registryctl:\$PATH"
  export REGISTRYCTL_URL=$URL

  export REGISTRYCTL_TOKEN="\$(cat $D/tokens/propose.token)"
  registryctl propose --payload $EXAMPLE

  export REGISTRYCTL_TOKEN="\$(cat $D/tokens/approve.token)"
${approve_lines}
  export REGISTRYCTL_TOKEN="\$(cat $D/tokens/commit.token)"
  registryctl commit $ID

  registryctl head
  registryctl get 1; echo                 # the exact record bytes, no newline
  registryctl proposals
  registryctl watch --since 0          # follows the stream; Ctrl-C to stop

Or the same with curl, instead of the registryctl steps above (approvals are still signed
locally by registryctl sign, after checking: registryctl hash $EXAMPLE prints $B3):

  cd $ROOT
  ctl=$CTL
  printf '{"schema_version":"1.0.0","payload":%s}' "\$(cat $EXAMPLE)" |
    curl -sS -X POST $URL/registry/proposals -H 'Content-Type: application/json' \\
      -H "Authorization: Bearer \$(cat $D/tokens/propose.token)" --data-binary @-; echo
  curl -sS $URL/registry/proposals/$ID; echo
${curl_approve_lines}  curl -sS -X POST $URL/registry/commit/$ID \\
    -H "Authorization: Bearer \$(cat $D/tokens/commit.token)"; echo
  curl -sS $URL/registry/head; echo
  curl -sS $URL/registry/1; echo
  curl -sSN -H 'Last-Event-ID: 0' $URL/registry/stream
  curl -sS $ADMIN_URL/readyz; echo
==============================================================================

EOF
exec "$SVC" --data-dir "$DATA_DIR" --storage "$STORAGE" --bind "$BIND" \
  --metrics-addr "$METRICS_ADDR" --log-format "$LOG_FORMAT"
