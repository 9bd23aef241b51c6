#!/usr/bin/env bash
# Refresh the vendored files (Leaflet, MarkerCluster, FeatureGroup.SubGroup; ECharts) from the npm registry (run by hand; the service never downloads).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.featuregroup.subgroup@1.0.2 >/dev/null
mkdir leaflet cluster subgroup
tar xzf leaflet-1.9.4.tgz -C leaflet --strip-components=1
tar xzf leaflet.markercluster-1.5.3.tgz -C cluster --strip-components=1
tar xzf leaflet.featuregroup.subgroup-1.0.2.tgz -C subgroup --strip-components=1
dest="$here/heshan_map/static/vendor"
mkdir -p "$dest/leaflet" "$dest/markercluster" "$dest/featuregroup-subgroup"
cp -r leaflet/dist/leaflet.js leaflet/dist/leaflet.css leaflet/dist/images leaflet/LICENSE "$dest/leaflet/"
cp cluster/dist/leaflet.markercluster.js cluster/dist/MarkerCluster.css cluster/dist/MarkerCluster.Default.css \
   cluster/MIT-LICENCE.txt "$dest/markercluster/"
cp subgroup/dist/leaflet.featuregroup.subgroup.js subgroup/LICENSE "$dest/featuregroup-subgroup/"
echo "vendored into $dest"
# Apache ECharts for the dashboard (Apache-2.0: its LICENSE and NOTICE go along).
cd "$work"
npm pack --silent echarts@5.6.0 >/dev/null
mkdir echarts
tar xzf echarts-5.6.0.tgz -C echarts --strip-components=1
mkdir -p "$dest/echarts"
# The one `new Function` of ECharts (a fallback for browsers without JSON.parse, for GeoJSON given as text) is
# replaced by JSON.parse, so the file needs no eval under the CSP; the file says so in its first line.
export old='"undefined"!=typeof JSON&&JSON.parse?JSON.parse(i):new Function("return ("+i+");")()'
grep -qF "$old" echarts/dist/echarts.min.js
{ echo '/* Modified by scripts/vendor_assets.sh: the GeoJSON-text fallback uses JSON.parse, not the Function constructor. */'
  perl -pe 's/\Q$ENV{old}\E/JSON.parse(i)/g' echarts/dist/echarts.min.js
} > "$dest/echarts/echarts.min.js"
if grep -qE "new +Function|eval *\(" "$dest/echarts/echarts.min.js"; then echo "ECharts still needs eval" >&2; exit 1; fi
cp echarts/LICENSE echarts/NOTICE "$dest/echarts/"
echo "vendored ECharts into $dest/echarts"
