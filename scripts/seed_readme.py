"""Write geodata/README.md: provenance, the placement and stage rules, and the seed counts tables."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from seed_checks import KINDS, PRECISIONS, STAGES, TOWNS

README_PATH = Path(__file__).resolve().parents[1] / "geodata" / "README.md"
STAGE_LABELS = {
    "project": ("谋划中", "已签约", "已动工", "已投产"),
    "land_plot": ("谋划中", "已立项", "施工中", "已完成"),
    "green_site": ("谋划中", "已立项", "建设中", "已建成"),
    "park": ("谋划中", "已获批", "建设中", "已运营"),
}


def stage_table(fc: dict) -> str:
    """Return the markdown table of site counts per kind and stage."""
    counts = Counter((f["properties"]["kind"], f["properties"]["stage"]) for f in fc["features"])
    lines = ["| kind | " + " | ".join(STAGES) + " | total |", "|---|" + "---:|" * (len(STAGES) + 1)]
    for kind in KINDS:
        row = [counts[(kind, s)] for s in STAGES]
        lines.append(f"| `{kind}` ({'/'.join(STAGE_LABELS[kind])}) | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    column = [sum(counts[(k, s)] for k in KINDS) for s in STAGES]
    lines.append("| **total** | " + " | ".join(map(str, column)) + f" | {sum(column)} |")
    return "\n".join(lines)


def precision_table(fc: dict) -> str:
    """Return the markdown table of site counts per kind and precision (county = unplaced)."""
    counts = Counter((f["properties"]["kind"], f["properties"]["precision"]) for f in fc["features"])
    lines = ["| kind | " + " | ".join(PRECISIONS) + " | total |", "|---|" + "---:|" * (len(PRECISIONS) + 1)]
    for kind in KINDS + (None,):
        row = [sum(n for (k, p), n in counts.items() if p == precision and kind in (None, k))
               for precision in PRECISIONS]
        label = f"`{kind}`" if kind else "**total**"
        lines.append(f"| {label} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    return "\n".join(lines)


def towns_covered(fc: dict) -> Counter:
    """Return the number of sites per town, for the sites whose town is known."""
    return Counter(f["properties"]["town"] for f in fc["features"] if f["properties"]["town"])


def town_table(fc: dict) -> str:
    """Return the markdown table of site counts per town."""
    counts = towns_covered(fc)
    lines = ["| town | sites |", "|---|---:|"]
    lines += [f"| {town} | {counts[town]} |" for town in TOWNS]
    return "\n".join(lines)


RULES = """## seed_sites.geojson

{total} sites curated by hand from the five seed documents (`seeds/*.txt`), re-read sentence by
sentence. **Nothing is surveyed or picked on a map**, and nothing gets a position the documents do
not give:

- `approximate`: the documents name a village or place (or a park) that `heshan_places.geojson`
  has; the site is a Point exactly at that reference point (uncertainty 1.5–8 km, stated in the
  description). A sub-park or project in a park is drawn at the park's reference point, never the
  size of its parent.
- `town`: only the town is known (the document names it, or the name carries it: 雅瑶、沙坪、双合 …);
  the site has its `town` and is a Point exactly at that town's seat, never inside a park.
- `county`: the place is unknown — `"geometry": null` (RFC 7946 §3.2). Such sites are listed, counted
  and exported but never drawn or joined spatially.
- No polygons and no lines: the documents give no outline of any park or trail. A documented area
  is kept in `area_ha` (鹤山产业转移工业园, 1029.19 ha), not drawn as a circle.

`stage` follows the documents' own words: a plan (计划、将、推进、谋划、争取、力争、储备, or an item
of a year's work plan) is `planned`; 签约/落户/落地 is `signed`; 加快建设/动工/开工/在建/施工/加速推进
is `started`; 投产/试产/建成/竣工/完成/开足马力促生产/投入运营 is `in_production`. The stage dates
`planned_on`, `signed_on`, `started_on`, `in_production_on` are partial dates (`YYYY`, `YYYY-MM`)
only as precise as the text, only for stages the site reached, and null where the text gives none
(e.g. a project reported as producing with no date of it). A plan item gets its plan's year as
`planned_on`; a year's review gets that year.

`source` holds every quote, one a line, `seeds/<file>: 「<verbatim text>」`; `attributes.evidence`
maps each filled field to the quote that states it (`{{"field": ..., "quote": ...}}`). A field filled
from outside the documents is listed in `attributes.outside_documents` and the description says so
(“非文件所载”): this is only ever the `town` of a reference place, taken from
`heshan_places.geojson`'s evidence. County-wide quotas (hectares of forest, numbers of 绿美 sites,
targets) are not sites: they are in `reported_figures.csv`.

Counts per kind × stage:

{stage_table}

Counts per kind × precision (`county` = place unknown, not drawn):

{precision_table}

Sites per town ({town_count} of 10 towns have at least one site; `county` sites and the
three-town 珠西国际物流中心 have no town):

{town_table}

Judgement calls, stated so they can be revisited: one site for two spellings of one name
(中欧雅瑶/中欧雅理新兴产业园; 省产业有序转移主平台/承接产业有序转移主平台; 隆基光伏/隆基绿能;
得润电子/鹤山市得润电子科技有限公司; 低效工业用地专项整治/整治提升三年行动); separate sites where two
names may be one thing but no document says so (中欧跨境电商产业园 and 中欧雅瑶新兴产业园, 欣龙隧道二期 and
隧道装备盾构制造园, 联塑光伏 and 联塑班皓, 创维光电 and 江门创维智能显示产业园, 鹤山工业城 and
鹤山产业转移工业园). The Jiangmen-wide 中欧(江门)中小企业国际合作区 is kept as a `county` site without a
position. Companies named only for awards or listings (厚积工程、华盛合金、博盈特焊、雅图高新、天山金属、
创新光电) are sites (a named company is a site) at `county`, recorded `in_production` as existing
enterprises with no date; their descriptions say no stage word (投产 …) is in the text. County-wide
programmes (沙坪共和南北双城, “光伏+农房”, 典型村擂台比武, 省全域旅游示范区), service platforms that are not
places (“视频办”, 诉求快速响应平台) and the designation 外贸转移升级基地 are not sites.

Second reading (a fresh pass over every line of the five documents against the finished file)
found and changed: the F003 quote 「中欧新材料创新基地、中欧雅理新兴产业园要抓紧基础设施建设」 added to
both parks, the F004 quote 「集中资源选建好承接产业有序转移平台」 to the 主平台, the F001
「…落地鹤山并加快建设」 quote to 隆基 (which keeps no start date: F004 expects its land supply only in
March 2023), the F001 first-train date 2022-04-28 to 珠西国际物流中心's description, and the 2024
产业转移资金 / 产业协作资金 totals to `reported_figures.csv`. It found no quote that does not appear
verbatim and no site placed without a named place or town.

Independent second reading (another reader, every line of the five documents against the file) found
and changed: missing sites 鹤山职教园区 (F001 「打造职教园区」, separate from the 职教新校区), 江门北站 (the
station the first 中欧 train left from, F002's 江江北站, at the 珠西 reference point) and the six
companies above; facts stated in descriptions without their quote, now quoted — the five 现有主要产业园区
(F001) for 鹤山工业城、珠西、中欧新材料、中欧跨境电商, 鹤山工业城's 申报省经济开发区 (F002), 产业转移工业园 as
省产业园, 珠西's 中老/中欧班列, 中欧新材料's 省化工园区 aim (F002), 中欧雅理's 首期工业项目动工, 硅能源基地's 2023
征地及基础设施建设 (F002), 光伏组件特色产业园's 全省首位 (F004), 全域土地综合整治's 社会投资方, 隆基's 超百亿元,
盾构制造园's 华南最大, 垃圾项目's 零填埋, 司令部旧址's 红色研学游; 南新高速 and 西江大堤整治工程 get
`planned_on` 2024 (the year of the review that reports them, as for every other review item); and the
targets in `reported_figures.csv` for forest, trees, farmland and 绿美/绿化 sites carry the stage their
items reach when met (`in_production`, like the project targets), not `planned`.

## reported_figures.csv

{figures} county totals the documents report: `year,stage,kind,metric,value,unit,source`. `stage` and
`kind` are empty when the figure is not about one; a metric starting with `target_` is a plan figure,
the others are reported results (`_jan_oct`, `q1_` mark a part of the year). `value` is written in
the quote exactly as the document writes it; `source` is the verbatim quote with its file.
"""


def write_readme(fc: dict, figures: int) -> str:
    """Write geodata/README.md from the committed head and the counts of fc; return the tables."""
    head = README_PATH.read_text(encoding="utf-8").split("\n## seed_sites.geojson\n")[0] + "\n"
    tables = {"stage_table": stage_table(fc), "precision_table": precision_table(fc),
              "town_table": town_table(fc)}
    body = RULES.format(total=len(fc["features"]), figures=figures, town_count=len(towns_covered(fc)), **tables)
    README_PATH.write_text(head + body, encoding="utf-8")
    return "\n\n".join(tables.values())
