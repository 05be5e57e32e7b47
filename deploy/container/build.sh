#!/usr/bin/env bash
# The image's build steps: the Dockerfile's one RUN, in /opt/okta-import-hook with the code copied
# in. tests/container_test.ts runs the Dockerfile's steps, this file among them, in a Debian root
# file system made with debootstrap (no container engine runs on our machines).
#   NPM_REGISTRY   where Deno's npm package comes from (default https://registry.npmjs.org)
set -euo pipefail
app=/opt/okta-import-hook
cd "$app"
deno_version=2.9.6
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
# Deno from npm: the binary package `npx deno@2.9.6` itself installs, checked against the digest
# the registry publishes for it (npm's "integrity"), per architecture.
case "$(dpkg --print-architecture)" in
amd64)
  package=linux-x64-glibc
  integrity=3md4TKLCuzsLDmfOoC5KN7NAZaxSVkMgm64vg6foD00JBADCpYS2/5QqXfzgnP5ZQz3iLP9vBQJtEgc116OAoQ==
  ;;
arm64)
  package=linux-arm64-glibc
  integrity=poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==
  ;;
*)
  echo "No Deno package for $(dpkg --print-architecture)" >&2
  exit 1
  ;;
esac

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# curl fetches Deno here and is the health check's client later.
apt-get install -y -qq --no-install-recommends ca-certificates curl >/dev/null
rm -rf /var/lib/apt/lists/*

tmp=$(mktemp -d)
curl -fsSL "$registry/@deno/$package/-/$package-$deno_version.tgz" -o "$tmp/deno.tgz"
want=$(printf '%s' "$integrity" | base64 -d | od -An -v -tx1 | tr -d ' \n')
got=$(sha512sum "$tmp/deno.tgz" | cut -d' ' -f1)
if [ "$want" != "$got" ]; then
  echo "Deno's package does not match its published sha512" >&2
  exit 1
fi
tar -xzf "$tmp/deno.tgz" -C "$tmp" package/deno
install -D -m 0755 "$tmp/package/deno" "$app/tools/deno"
rm -rf "$tmp"

# The service's user: no login, no home, a fixed uid for volume ownership.
useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin okta-hook

# Every module and npm package the tasks load, fetched now and checked against deno.lock, so the
# container needs no registry at run time. Root owns the code and the cache; the user reads them.
# Deno trusts Debian's certificate store (with any authority added under
# /usr/local/share/ca-certificates), as curl and apt do.
export DENO_DIR="$app/deno-dir" DENO_NO_UPDATE_CHECK=1 DENO_TLS_CA_STORE=system
"$app/tools/deno" cache --frozen main.ts lib/launch.ts lib/store/decision_worker.ts >/dev/null
chmod -R a+rX,go-w "$app"
# data/ is the volume: the database, and the generated secret and certificate when none is given.
install -d -m 0700 -o okta-hook -g okta-hook "$app/data"
"$app/tools/deno" --version | head -n 1
