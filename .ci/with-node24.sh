#!/usr/bin/env bash
# Runs a command (default: `pnpm test`) under Node 24, for CI and for developers:
#
#   .ci/with-node24.sh                 # the whole suite on Node 24
#   .ci/with-node24.sh npx vitest run packages/core/src/store
#
# Node 24 comes from the npm registry's node-<platform>-<arch> package (it also ships the headers
# under include/node), installed by .ci/node-from-npm.sh into .ci/.node24 (git-ignored).
# better-sqlite3 is a native addon built for the default Node's ABI, so it is switched to a
# Node 24 build for the command and back afterwards, even when the command fails. Builds are kept per ABI in .ci/.node24/addon-cache, so
# only the first run compiles (about 1.5 min on 2 cores); later switches are file copies.
# Headers always come from a local directory (npm_config_nodedir): node-gyp never downloads.
# It changes node_modules in place: don't run it while another test run uses the same tree.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=.ci/lib.sh
source "$ROOT/.ci/lib.sh"

ADDON_CACHE="$ROOT/.ci/.node24/addon-cache"
DEFAULT_NODE="$(command -v node)"
if [ "$#" -eq 0 ]; then
  set -- pnpm test
fi

if command -v pnpm >/dev/null 2>&1; then
  PNPM=(pnpm)
else
  PNPM=(npx -y "pnpm@$PNPM_VERSION")
fi

# The headers directory for a Node binary, without any download: an official layout keeps them in
# <prefix>/include/node next to <prefix>/bin/node (true for Debian's /usr/bin/node too).
nodedir_for() {
  local prefix
  prefix="$(dirname "$(dirname "$(readlink -f "$1")")")"
  if [ -f "$prefix/include/node/common.gypi" ]; then
    echo "$prefix"
  elif [ -n "${npm_config_nodedir:-}" ]; then
    echo "$npm_config_nodedir"
  else
    ci_warn "no Node headers next to $1; node-gyp would try to download them"
    return 1
  fi
}

addon_dirs() {
  local dir
  for dir in "$ROOT"/node_modules/.pnpm/better-sqlite3@*/node_modules/better-sqlite3; do
    [ -f "$dir/package.json" ] && echo "$dir"
  done
  return 0
}

addon_loads() { # node_binary package_dir
  "$1" -e 'const D = require(process.argv[1]); new D(":memory:").close()' "$2" >/dev/null 2>&1
}

cache_file() { # node_binary package_dir
  local abi version
  abi="$("$1" -p 'process.versions.modules + "-" + process.platform + "-" + process.arch')"
  version="$("$1" -p 'require(process.argv[1] + "/package.json").version' "$2")"
  echo "$ADDON_CACHE/better-sqlite3@$version/node-abi$abi/better_sqlite3.node"
}

# Leaves every better-sqlite3 in the tree loadable by the given Node: keeps a build that already
# loads, else copies a cached one, else rebuilds from source with that Node's own headers.
use_addon_for() { # node_binary
  local node_bin="$1" dir cached target rebuilt=no
  for dir in $(addon_dirs); do
    target="$dir/build/Release/better_sqlite3.node"
    cached="$(cache_file "$node_bin" "$dir")"
    if ! addon_loads "$node_bin" "$dir" && [ -f "$cached" ]; then
      # rm first: the old file may be hard-linked elsewhere (pnpm's store); never write through it.
      rm -f "$target"
      cp "$cached" "$target"
      echo "better-sqlite3 in ${dir#"$ROOT"/}: cached build for $("$node_bin" --version)"
    fi
    if ! addon_loads "$node_bin" "$dir"; then
      if [ "$rebuilt" = no ]; then
        ci_log "compiling better-sqlite3 for $("$node_bin" --version)"
        local nodedir started=$SECONDS
        nodedir="$(nodedir_for "$node_bin")"
        # build_from_source: skip prebuild-install's download attempt (unreachable here).
        (cd "$ROOT" && PATH="$(dirname "$node_bin"):$PATH" npm_config_nodedir="$nodedir" \
          npm_config_build_from_source=true npm_config_jobs=max \
          "${PNPM[@]}" --recursive rebuild better-sqlite3)
        echo "compiled better-sqlite3 for $("$node_bin" --version) in $((SECONDS - started)) s"
        rebuilt=yes
      fi
      addon_loads "$node_bin" "$dir" || {
        ci_warn "better-sqlite3 in $dir still does not load under $("$node_bin" --version)"
        "$node_bin" -e 'new (require(process.argv[1]))(":memory:")' "$dir" || true
        return 1
      }
    fi
    if [ ! -f "$cached" ] || [ "$rebuilt" = yes ]; then
      mkdir -p "$(dirname "$cached")"
      cp "$target" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
    fi
  done
}

restore_default_addon() {
  local status=$?
  ci_log "switching better-sqlite3 back to $("$DEFAULT_NODE" --version)"
  use_addon_for "$DEFAULT_NODE" || {
    ci_warn "could not restore better-sqlite3 for the default Node; run: pnpm rebuild -r better-sqlite3"
    [ "$status" -ne 0 ] || status=1
  }
  exit "$status"
}

NODE24_HOME="$(bash "$ROOT/.ci/node-from-npm.sh" "$NODE24_VERSION")"
NODE24="$NODE24_HOME/bin/node"
[ -f "$NODE24_HOME/include/node/common.gypi" ] || {
  ci_warn "$NODE24_HOME has no include/node headers: cannot build native addons for it"
  exit 1
}
# Remember the default Node's build before replacing it, so switching back costs a copy.
use_addon_for "$DEFAULT_NODE" || ci_warn "better-sqlite3 did not load under the default Node"
trap restore_default_addon EXIT
# Without these, a Ctrl-C or kill would end bash without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
use_addon_for "$NODE24"

ci_log "running under $("$NODE24" --version): $*"
PATH="$NODE24_HOME/bin:$PATH" "$@"
