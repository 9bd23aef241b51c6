"""The curated seed items: every park, project, land item and green site the five seed documents name.

Each item is built by `item(...)`. `ev` lists the evidence: (fields, file, verbatim quote), where
fields is a space-separated list of the properties the quote states (stage, planned_on, signed_on,
started_on, in_production_on, town, park, investment_cny_100m, area_ha, industry, name).
`at` says where the item is drawn:
    ("place", NAME)  at the reference point NAME of geodata/heshan_places.geojson (approximate)
    ("town", TOWN)   at the seat of TOWN: only the town is known (town)
    ("county",)      the place is unknown: no geometry (county)
`outside` names the fields filled from outside the documents (the description says so).
Document dates: F000 2025-02-11 (2024 review, 2025 plan); F001 2022-12-20 (2022 review and plan);
F002 the 2023 government work report (2023 plan); F003 2023-02-09 (2023 plan);
F004 early 2023 (2022 review, 2023 plan, site visits of 2023-01-29/30).
"""
from __future__ import annotations

F000 = "000_49ee4d7df686cbb1.txt"
F001 = "001_5cdd71132f5e9a7a.txt"
F002 = "002_6d58977e84519ae8.txt"
F003 = "003_e93616e78da7270f.txt"
F004 = "004_bfa3ef5f2de2e65f.txt"

SILICON = "广东(江门)硅能源产业基地鹤山园区"
ZHUXI_PLACE = "珠西国际物流中心 / 江门北站"
GONGHE_PARK = "鹤山工业城"

# quotes used by several items
Q_XINYI_2022 = (F001, "隆基光伏、信义玻璃、中为先进封装等一批重大项目落地鹤山并加快建设")
Q_NEW_2024 = (F000, "隆基绿能、信义玻璃等42个项目新投产")
Q_BUILD_2022 = (F001, "富华装载机、联塑光伏、东古调味、得润电子、日丰电缆等一批重大项目加快建设、早日投产")
Q_START_2022 = (F004, "信义玻璃、日丰电缆、宝鹤物流等一批重大项目开工建设")
Q_PUSH_2022 = (F004, "中商人防、博盈焊接等项目加速推进")
Q_DONE_2022 = (F004, "世茂电子、创维光电等一批项目建成竣工")
Q_FOREIGN = (F001, "实现三年来外资企业落户“零的突破”")
Q_ZHUXI_2023 = (F002, "珠西国际陆港一期、嘉民、熙麦项目投入运营")
Q_ENERGY = (F002, "推进抽水蓄能、LNG应急储备站等重大能源项目")
Q_GONGHE_PARK = (F002, "鹤山工业城申报省经济开发区，打造欧资企业集聚启动区，建设盾构机特色园区")
Q_VISIT = (F004, "广东欣龙隧道装备股份有限公司、江门创维智能显示产业园、广东世运电路科技股份有限公司、"
                 "鹤山市得润电子科技有限公司等重点企业纷纷抢抓新春开局，车间产线开足马力促生产")
Q_STREETS = (F002, "打造龙口镇“牛街”、鹤城镇茶行街、西江畔欧洲风情街")
Q_SPOTS = (F002, "培育鹤城五星村、雅瑶陈山村等乡村网红打卡点")
Q_TRADE = (F002, "建设鹤海、渤海、中顺等大宗商品交易平台")
Q_HR = (F002, "建设市人力资源生态园、中欧合作区人力资源服务产业园服务平台")
Q_SCHOOLS = (F002, "建设鹤山一中附属初中、沙坪八等中小学校")
Q_TEA = (F002, "打造双合千亩茶园，建设白水带茶叶专业村")
Q_FUND = (F000, "南新高速、西江大堤整治工程等项目获得产业转移资金4亿元")
Q_RAIL = (F001, "珠肇高铁、银洲湖高速公路等一批基础设施项目加快建设")
Q_ROADS = (F001, "今年已经完成前进南路、大鹏路等城市道路11条")
Q_OLD = (F001, "完成沙坪街道置业花园、华侨新村、和平二巷、美景花园等29个老旧小区的改造")
Q_IMPROVE = (F000, "发动企业以自有资金实施青南村、共和生态公园、县城入口人民东路整治提升等项目105个")
Q_TRAIL = (F000, "加快推进鹤山千里步道宅梧段、大雁山段建设")
Q_GREEN_2025 = (F000, "打造好来苏村、靖村村等18个绿美示范点")
Q_INFRA_2023 = (F003, "中欧新材料创新基地、中欧雅理新兴产业园要抓紧基础设施建设")
Q_PILOT = (F003, "抓好朗围、长江等村级工业园“工改工”试点")
Q_FIVE_PARKS = (F001, "5个鹤山现有主要产业园区实行差异化发展")


def item(code: str, kind: str, name: str, name_en: str, stage: str, what: str, at: tuple,
         ev: list[tuple[str, str, str]], dates: dict[str, str] | None = None, town: str | None = None,
         park: str | None = None, investment: float | None = None, area_ha: float | None = None,
         industry: str | None = None, outside: tuple[str, ...] = ()) -> dict:
    """Return one curated item as a plain dict."""
    return dict(code=code, kind=kind, name=name, name_en=name_en, stage=stage, what=what, at=at, ev=ev,
                dates=dates or {}, town=town, park=park, investment=investment, area_ha=area_ha,
                industry=industry, outside=outside)


def ev(fields: str, quote: tuple[str, str]) -> tuple[str, str, str]:
    """Return an evidence entry: the fields `quote` states, its file and its text."""
    return (fields, quote[0], quote[1])


PARKS = [
    item("HS-PARK-001", "park", SILICON, "Guangdong (Jiangmen) Silicon Energy Industry Base, Heshan Park",
         "started", "省硅能源产业基地，2022年争取落户鹤山并完成概念规划编制，建设稳步推进；2023年加快征地及基础设施建设",
         ("place", SILICON), [
             ev("stage signed_on", (F001, "争取省硅能源产业基地落户鹤山并完成概念规划编制")),
             ev("stage started_on", (F001, "省硅能源产业基地建设稳步推进")),
             ev("stage", (F002, "加快省硅能源产业基地征地及基础设施建设")),
             ev("name", (F004, "广东(江门)硅能源产业基地鹤山园区是全国首个省级硅能源产业发展行动计划")),
         ], dates={"signed_on": "2022", "started_on": "2022"}, town="址山镇", outside=("town",)),
    item("HS-PARK-002", "park", "鹤山工业城", "Heshan Industrial City", "in_production",
         "鹤山现有主要产业园区之一，2022年认定为省级高新区，2023年计划申报省经济开发区（运营起始年份文件未载）",
         ("place", GONGHE_PARK), [
             ev("stage", Q_FIVE_PARKS),
             ev("name", (F001, "鹤山工业城(成功认定为省级高新区)")),
             ev("name", Q_GONGHE_PARK),
         ], town="共和镇", outside=("town",)),
    item("HS-PARK-003", "park", "鹤山产业转移工业园", "Heshan Industrial Transfer Park", "in_production",
         "现有省产业园，2022年成功扩园，扩园后面积将达1029.19公顷（参考点资料视其与鹤山工业城为同一园区，文件分别提及，故分列）",
         ("place", "鹤山产业转移工业园"), [
             ev("stage", (F001, "积极推动鹤山产业转移工业园成功扩园")),
             ev("stage", (F001, "成为全省首个实现扩园规划环评全覆盖的省产业园")),
             ev("area_ha", (F001, "扩园后园区面积将达1029.19公顷")),
         ], area_ha=1029.19, town="共和镇", outside=("town",)),
    item("HS-PARK-004", "park", "珠西国际物流中心", "Zhuxi International Logistics Center", "in_production",
         "鹤山现有主要产业园区之一，开行中欧、中老国际货运班列（2022年4月28日首趟“江门号”中欧班列从江门北站发出，运营起始日期文件未载）；地处沙坪街道、龙口镇、桃源镇交界（参考点资料），故镇街留空",
         ("place", ZHUXI_PLACE), [
             ev("stage", Q_FIVE_PARKS),
             ev("stage", (F001, "成功开行中老、中欧国际货运班列")),
             ev("stage", (F001, "珠西国际物流中心要保持中欧国际货运班列稳定运行")),
             ev("stage", (F001, "4月28日,首趟“江门号”中欧国际货运班列从江门北站发出")),
         ]),
    item("HS-PARK-005", "park", "中欧新材料创新基地", "Sino-European New Materials Innovation Base", "started",
         "鹤山现有主要产业园区之一，加快推进园区规划环评和配套基础设施建设，争取认定为省化工园区",
         ("county",), [
             ev("stage", (F001, "中欧新材料创新基地要加快推进园区规划环评,加快配套基础设施建设")),
             ev("stage", Q_FIVE_PARKS),
             ev("stage", (F002, "中欧新材料创新基地加快推进园区环评和基础设施投入，争取认定为省化工园区")),
             ev("stage", Q_INFRA_2023),
         ]),
    item("HS-PARK-006", "park", "中欧雅瑶新兴产业园", "Sino-European Yayao Emerging Industrial Park", "started",
         "五大产业平台之一（2023年工作安排和经济工作会议写作“中欧雅理新兴产业园”，按同一园区处理），"
         "加快征地及道路、环保设施建设并推动首期工业项目动工；镇街按园名“雅瑶”定为雅瑶镇",
         ("town", "雅瑶镇"), [
             ev("stage", (F002, "中欧雅理新兴产业园加快征地及道路、环保设施建设，推动首期工业项目动工")),
             ev("name town", (F004, "中欧雅瑶新兴产业园五大产业平台")),
             ev("stage", Q_INFRA_2023),
         ], town="雅瑶镇"),
    item("HS-PARK-007", "park", "中欧(江门)中小企业国际合作区",
         "China-Europe (Jiangmen) SME International Cooperation Zone", "started",
         "江门全市范围的国家级中欧合作平台，鹤山各园区属其一部分，并非鹤山的一处场地，故不画位置；2022年建设蹄疾步稳",
         ("county",), [
             ev("stage", (F001, "中欧(江门)中小企业国际合作区建设蹄疾步稳")),
         ]),
    item("HS-PARK-008", "park", "盾构机特色园区", "Shield Tunnelling Machine Specialty Park", "planned",
         "2023年工作安排提出在鹤山工业城建设的盾构机特色园区；点位为鹤山工业城参考点，不代表园区范围",
         ("place", GONGHE_PARK), [ev("stage planned_on park", Q_GONGHE_PARK)],
         dates={"planned_on": "2023"}, park="鹤山工业城", town="共和镇", outside=("town",)),
    item("HS-PARK-009", "park", "欧资企业集聚启动区", "European-Invested Enterprise Cluster Start-up Zone",
         "planned", "2023年工作安排提出在鹤山工业城打造的欧资企业集聚启动区；点位为鹤山工业城参考点，不代表园区范围",
         ("place", GONGHE_PARK), [ev("stage planned_on park", Q_GONGHE_PARK)],
         dates={"planned_on": "2023"}, park="鹤山工业城", town="共和镇", outside=("town",)),
    item("HS-PARK-010", "park", "光伏组件特色产业园", "PV Module Specialty Industrial Park", "planned",
         "在硅能源产业基地鹤山园区同步开展延链招商、要打造的“全省首位”光伏组件特色产业园（2023年计划）；点位为该园区参考点",
         ("place", SILICON), [
             ev("stage planned_on park", (F004, "我们正全力推进园区规划建设，同步开展延链招商，打造高水平光伏组件特色产业园")),
             ev("stage", (F004, "打造全省首位的光伏组件特色产业园")),
         ], dates={"planned_on": "2023"}, park=SILICON, town="址山镇", outside=("town",)),
    item("HS-PARK-011", "park", "省产业有序转移主平台", "Provincial Main Platform for Orderly Industrial Transfer",
         "planned", "2025年工作的核心载体：要打造成为县域经济发展的主战场，推进主平台管理机制创新试点；"
         "2023年工作安排提出制定承接产业有序转移主平台建设方案（按同一平台处理）",
         ("county",), [
             ev("stage", (F000, "要把省产业有序转移主平台打造成为县域经济发展的主战场")),
             ev("planned_on", (F002, "制定承接产业有序转移主平台建设方案")),
             ev("name", (F004, "集中资源选建好承接产业有序转移平台")),
         ], dates={"planned_on": "2023"}),
    item("HS-PARK-012", "park", "中欧跨境电商产业园", "Sino-European Cross-Border E-Commerce Industrial Park",
         "started", "2022年鹤山现有主要产业园区之一，抓紧先行启动区建设和路网、环保配套建设；"
         "2023年的五大产业平台名单在同一位置列的是中欧雅瑶新兴产业园，可能为同一园区，文件未明说，故分列",
         ("county",), [
             ev("stage", (F001, "中欧跨境电商产业园要抓紧先行启动区建设,加快园区路网、环保等配套建设")),
             ev("stage", Q_FIVE_PARKS),
         ]),
    item("HS-PARK-013", "park", "新型水暖卫浴产业合作园区", "New Plumbing and Sanitary Ware Cooperation Park",
         "planned", "2023年计划与开平共建的新型水暖卫浴产业合作园区", ("county",), [
             ev("stage planned_on", (F002, "加快与开平共建新型水暖卫浴产业合作园区")),
         ], dates={"planned_on": "2023"}),
    item("HS-PARK-014", "park", "侨梦苑", "Qiaomengyuan Overseas-Chinese Innovation Park", "planned",
         "2023年计划推进建设的“侨梦苑”", ("county",), [
             ev("stage planned_on", (F002, "推进“侨梦苑”建设")),
         ], dates={"planned_on": "2023"}),
    item("HS-PARK-015", "park", "市人力资源生态园", "Heshan Human Resources Eco-Park", "planned",
         "2023年计划建设的市人力资源生态园", ("county",), [ev("stage planned_on", Q_HR)],
         dates={"planned_on": "2023"}),
    item("HS-PARK-016", "park", "中欧合作区人力资源服务产业园", "Sino-European Zone Human Resources Service Park",
         "planned", "2023年计划建设的中欧合作区人力资源服务产业园服务平台", ("county",),
         [ev("stage planned_on", Q_HR)], dates={"planned_on": "2023"}),
]

LAND_PLOTS = [
    item("HS-LAND-001", "land_plot", "全域土地综合整治", "Comprehensive Land Consolidation (whole city)", "planned",
         "2025年上半年完成全市全域土地综合整治方案编制，并引进社会投资方；全市范围，不画位置", ("county",), [
             ev("stage planned_on", (F000, "今年上半年要完成全市全域土地综合整治方案编制")),
             ev("stage", (F000, "加快引进有资质、有信誉、有实力的社会投资方")),
         ], dates={"planned_on": "2025"}),
    item("HS-LAND-002", "land_plot", "低效工业用地专项整治三年行动", "Three-Year Campaign on Inefficient Industrial Land",
         "planned", "全市低效工业用地整治提升三年行动（2023年工作安排写作“低效工业用地整治提升三年行动”）；全市范围，不画位置",
         ("county",), [
             ev("stage planned_on", (F001, "大力推进低效工业用地专项整治三年行动")),
             ev("name", (F002, "实施低效工业用地整治提升三年行动")),
         ], dates={"planned_on": "2022"}),
    item("HS-LAND-003", "land_plot", "朗围村级工业园“工改工”试点", "Langwei Village Industrial Park Renewal Pilot",
         "planned", "2023年要抓好的村级工业园“工改工”试点；所在镇街文件未载", ("county",),
         [ev("stage planned_on", Q_PILOT)], dates={"planned_on": "2023"}),
    item("HS-LAND-004", "land_plot", "长江村级工业园“工改工”试点", "Changjiang Village Industrial Park Renewal Pilot",
         "planned", "2023年要抓好的村级工业园“工改工”试点；所在镇街文件未载", ("county",),
         [ev("stage planned_on", Q_PILOT)], dates={"planned_on": "2023"}),
    item("HS-LAND-007", "land_plot", "双龙村土地经营权流转示范片",
         "Shuanglong Village Land-Use-Right Transfer Demonstration Area", "planned",
         "2023年计划打造的宅梧镇双龙村农村承包土地经营权流转示范片", ("place", "双龙村"), [
             ev("stage planned_on town", (F002, "打造农村承包土地经营权流转宅梧镇双龙村示范片")),
         ], dates={"planned_on": "2023"}, town="宅梧镇"),
]

GREEN_SITES = [
    item("HS-GREEN-001", "green_site", "来苏村绿美示范点", "Laisu Village Green-Beauty Demonstration Site", "planned",
         "2025年计划打造的18个绿美示范点之一", ("place", "来苏村"), [ev("stage planned_on", Q_GREEN_2025)],
         dates={"planned_on": "2025"}, town="共和镇", outside=("town",)),
    item("HS-GREEN-002", "green_site", "靖村村绿美示范点", "Jingcun Village Green-Beauty Demonstration Site", "planned",
         "2025年计划打造的18个绿美示范点之一", ("place", "靖村村"), [ev("stage planned_on", Q_GREEN_2025)],
         dates={"planned_on": "2025"}, town="宅梧镇", outside=("town",)),
    item("HS-GREEN-003", "green_site", "共和生态公园", "Gonghe Ecological Park", "started",
         "2024年由企业以自有资金实施整治提升（是否完工文件未载）；镇街按园名“共和”定为共和镇", ("place", "共和生态公园"),
         [ev("stage started_on town", Q_IMPROVE)], dates={"started_on": "2024"}, town="共和镇"),
    item("HS-GREEN-004", "green_site", "青南村整治提升", "Qingnan Village Improvement", "started",
         "2024年由企业以自有资金实施的村庄整治提升（是否完工文件未载）；青南村所在镇街文件未载，参考资料亦无法定位",
         ("county",), [ev("stage started_on", Q_IMPROVE)], dates={"started_on": "2024"}),
    item("HS-GREEN-005", "green_site", "县城入口人民东路整治提升", "Renmin East Road County-Town Entrance Improvement",
         "started", "2024年由企业以自有资金实施的县城入口道路整治提升（是否完工文件未载）；"
         "“县城”即沙坪街道为文件外的常识，故镇街非文件所载，点位为沙坪街道驻地", ("town", "沙坪街道"),
         [ev("stage started_on", Q_IMPROVE)], dates={"started_on": "2024"}, town="沙坪街道", outside=("town",)),
    item("HS-GREEN-006", "green_site", "鹤山千里步道宅梧段", "Heshan Thousand-Li Trail, Zhaiwu Section", "started",
         "2025年要加快推进建设的千里步道宅梧段（动工时间文件未载）；走向未知，点位为宅梧镇驻地", ("town", "宅梧镇"),
         [ev("stage town", Q_TRAIL)], town="宅梧镇"),
    item("HS-GREEN-007", "green_site", "鹤山千里步道大雁山段", "Heshan Thousand-Li Trail, Dayan Mountain Section", "started",
         "2025年要加快推进建设的千里步道大雁山段（动工时间文件未载）；走向未知，点位为大雁山参考点",
         ("place", "大雁山"), [ev("stage", Q_TRAIL)], town="沙坪街道", outside=("town",)),
    item("HS-GREEN-016", "green_site", "古劳水乡乡村振兴示范带", "Gulao Water Town Rural Revitalisation Demonstration Belt",
         "started", "2022年累计投入1656万元精心打造的乡村振兴示范带，2025年继续提升风貌；镇街按名称“古劳”定为古劳镇",
         ("place", "古劳水乡"), [
             ev("stage started_on investment_cny_100m town", (F001, "今年累计投入1656万元精心打造古劳水乡乡村振兴示范带")),
             ev("name", (F000, "提升古劳水乡乡村振兴示范带风貌")),
         ], dates={"started_on": "2022"}, investment=0.1656, town="古劳镇"),
]

