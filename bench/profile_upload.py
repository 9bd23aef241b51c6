"""Profile one import (csv points or geojson polygons) with cProfile: profile_upload.py csv|geojson ROWS [dry]."""
import cProfile, pstats, sys, time, json, random
from pathlib import Path
sys.path.insert(0, "bench")
from bench_upload import write_csv, points_inside_heshan
from common import fresh_database
from sqlalchemy.orm import Session
from heshan_map.seed import load_admin_areas
from heshan_map.uploads import UploadRequest, process_upload
n = int(sys.argv[2]); fmt = sys.argv[1]
engine = fresh_database()
with Session(engine) as s:
    load_admin_areas(s); s.commit()
p = Path(f"/tmp/up/t.{fmt}")
if fmt == "csv":
    write_csv(p, n)
else:
    rng = random.Random(3); pts = points_inside_heshan(n, rng); feats = []
    import math
    for i, (x, y) in enumerate(pts):
        ring = [[x + 0.0004*math.cos(2*math.pi*k/12), y + 0.0004*math.sin(2*math.pi*k/12)] for k in range(12)]
        ring.append(ring[0])
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"名称": f"地块{i}", "代码": f"L-{i:06d}", "状态": "已签约"}})
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False))
data = p.read_bytes()
pr = cProfile.Profile(); t = time.perf_counter(); pr.enable()
with Session(engine) as s:
    o = process_upload(s, UploadRequest(data=data, filename=p.name, user="b", kind="project" if fmt=="csv" else "land_plot",
        dry_run=len(sys.argv) > 3))
    s.commit()
pr.disable(); print("secs", time.perf_counter() - t, o.accepted, o.report["created"], o.report["errors"][:2])
pstats.Stats(pr).sort_stats("cumulative").print_stats(45)
