#!/usr/bin/env bash
# Installs the tools the editor end-to-end tests (`npm run test:e2e`, test/e2e/) need:
# code-server (the real VS Code workbench, served on loopback) from the npm registry, into a
# cache folder shared by every clone on this machine. Idempotent: a warm cache returns at once.
#
#   bash scripts/e2e-setup.sh
#
# Env: OPTSTUDY_E2E_TOOLS  cache folder (default $HOME/.cache/optstudy-e2e; the tests read the same)
#      CS_VERSION          code-server version (default 4.100.3 = VS Code 1.100.3, the newest whose
#                          engines.node is 20; keep package.json's engines.vscode at or below it)
#
# Needs Debian's chromium, ripgrep, libkrb5-dev and pkg-config (`.ci/run` installs them; when run
# as root this script installs what is missing itself). playwright-core and @vscode/vsce are the
# project's own devDependencies (`npm ci`), so nothing else is fetched here.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${OPTSTUDY_E2E_TOOLS:-$HOME/.cache/optstudy-e2e}"
CS_VERSION="${CS_VERSION:-4.100.3}"
CS_DIR="$TOOLS/code-server-$CS_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
t0=$(date +%s)
say() { echo "[e2e-setup +$(( $(date +%s) - t0 ))s] $*"; }

# 1. System packages. chromium: the browser; ripgrep: stands in for @vscode/ripgrep's binary,
#    which its postinstall would download from GitHub; libkrb5-dev + pkg-config: code-server's
#    `kerberos` native module builds from source (its prebuilt download is unreachable here).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
[ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "e2e-setup: missing Debian packages: ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  say "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi

# 2. The project's own driver tools must be there (npm ci).
for m in playwright-core @vscode/vsce; do
  [ -d "node_modules/$m" ] || { echo "e2e-setup: node_modules/$m is missing: run npm ci first" >&2; exit 1; }
done

# 3. code-server, cached. The `.ok` marker is written last, so a half-finished install is redone.
if [ -f "$CS_DIR/.ok" ] && [ -f "$CS_ENTRY" ]; then
  say "code-server $CS_VERSION is ready in $CS_DIR"
  exit 0
fi
say "installing code-server@$CS_VERSION into $CS_DIR (native modules build from source: a few minutes)"
rm -rf "$CS_DIR"
mkdir -p "$CS_DIR"
# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache already holds the
# archive it wants; seed that cache (under TMPDIR) with Debian's rg.
RG_TMP="$CS_DIR/tmp"
mkdir -p "$RG_TMP/vscode-ripgrep-cache-1.15.11" "$RG_TMP/rgstage"
cp "$(command -v rg)" "$RG_TMP/rgstage/rg"
tar czf "$RG_TMP/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" \
  -C "$RG_TMP/rgstage" rg
echo '{"name":"optstudy-e2e-code-server","private":true}' > "$CS_DIR/package.json"
# unsafe_perm: code-server's postinstall refuses to run as root without it.
# yes: node-pty's postinstall runs `npx node-gyp`, and an npmrc with yes=false cancels that.
if ! ( cd "$CS_DIR" && TMPDIR="$RG_TMP" npm_config_unsafe_perm=true npm_config_yes=true \
        npm install --no-audit --no-fund --no-save "code-server@$CS_VERSION" > install.log 2>&1 ); then
  tail -40 "$CS_DIR/install.log" >&2
  echo "e2e-setup: code-server install failed; full log: $CS_DIR/install.log" >&2
  exit 1
fi
# XDG_CONFIG_HOME: code-server writes a config.yaml there on first start; keep it out of ~/.config.
version=$(XDG_CONFIG_HOME="$CS_DIR/xdg" node "$CS_ENTRY" --version | tail -1)
say "code-server: $version"
rm -rf "$RG_TMP" "$CS_DIR/xdg"
touch "$CS_DIR/.ok"
say "done"
