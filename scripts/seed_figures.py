"""The county totals the five seed documents report, written to geodata/reported_figures.csv.

Each row: (year, stage, kind, metric, value, unit, file, verbatim quote). stage/kind are empty when the
figure is not about one stage or kind. A metric starting with `target_` is a plan figure (力争/计划/推动),
the others are reported results; a target's stage is the stage its items reach when it is met (完成/打造/建设
N → in_production, 动工 → started, 引进 → signed); `_jan_oct` / `q1_` say the period when it is not the whole year.
The value is written in the quote exactly as the document writes it (the self-check verifies that).
"""
from __future__ import annotations

from seed_items import F000, F001, F002, F004

Q24_SIGNED = "全年新引进福建友谊等超亿元项目107个"
Q22_INTRO = "鹤山共引进超亿元项目26个,计划总投资141.92亿元"
Q23_TARGET = "力争引进亿元以上项目不少于55个、计划投资额不少于300亿元，10亿元以上项目不少于8个"
Q23_BUILD = "推动40个工业项目动工，力促20个重点工业项目建成投产"
Q23_GREEN = "打造乡村绿化美化示范村5条、绿色社区3个"
Q22_KEY = "鹤山103个省市重点建设项目完成投资165.25亿元"
Q22_MFG = "71项制造业工程重点项目，年度计划投资94.3亿元，完成投资125.4亿元"
Q23_EVENT = "此次鹤山集中签约开工的总项目数达32个，计划总投资约183亿元"
Q23_EVENT_START = "其中，开工项目20个，总投资约140亿元"
Q23_EVENT_PROD = "投产项目12个，总投资约43亿元"
Q23_Q1_SIGN = "2023年第一季度计划签约项目21个，计划总投资约80亿元"
Q23_INDUSTRY = "力争今年引进亿元以上工业企业超50个，计划投资额超250亿元"
Q24_FUNDS = "南新高速、西江大堤整治工程等项目获得产业转移资金4亿元、产业协作资金7000万元"
Q24_IMPROVE = "县城入口人民东路整治提升等项目105个，金额超1亿元"

FIGURES: list[tuple] = [
    # 2024 review and 2025 plan (F000)
    (2024, "signed", "project", "projects_over_100m_cny", 107, "个", F000, Q24_SIGNED),
    (2024, "started", "project", "projects_started", 145, "个", F000, "推动欣龙隧道二期、志格空调等145个项目新动工"),
    (2024, "in_production", "project", "projects_in_production", 42, "个", F000, "隆基绿能、信义玻璃等42个项目新投产"),
    (2024, "in_production", "green_site", "green_demonstration_sites", 15, "个", F000, "绿美鹤山生态建设打造出15个绿美示范点"),
    (2024, "", "", "enterprise_funded_improvement_projects", 105, "个", F000, Q24_IMPROVE),
    (2024, "", "", "enterprise_funded_improvement_cny_100m_over", 1, "亿元", F000, Q24_IMPROVE),
    (2024, "", "project", "industrial_transfer_funds_obtained_cny_100m", 4, "亿元", F000, Q24_FUNDS),
    (2024, "", "project", "industrial_cooperation_funds_obtained_cny_10k", 7000, "万元", F000, Q24_FUNDS),
    (2025, "signed", "project", "target_investment_attracted_cny_100m", 300, "亿元", F000, "力争全年招商引资突破300亿元"),
    (2025, "in_production", "green_site", "target_forest_stand_improvement_ha", 733.33, "公顷", F000,
     "高标准完成733.33公顷(1.1万亩)林分优化提升"),
    (2025, "in_production", "green_site", "target_forest_tending_ha", 1173.33, "公顷", F000, "1173.33公顷(1.76万亩)森林抚育任务"),
    (2025, "in_production", "green_site", "target_rural_trees_planted", 7, "万株", F000, "高质量完成乡村绿化植树7万株"),
    (2025, "in_production", "green_site", "target_green_demonstration_sites", 18, "个", F000, "打造好来苏村、靖村村等18个绿美示范点"),
    # 2022 review (F001, 2022-12-20)
    (2022, "signed", "project", "projects_over_100m_cny_jan_oct", 26, "个", F001, Q22_INTRO),
    (2022, "signed", "project", "planned_investment_cny_100m_jan_oct", 141.92, "亿元", F001, Q22_INTRO),
    (2022, "signed", "project", "industrial_chain_projects_jan_oct", 21, "个", F001, "其中产业链项目21个"),
    (2022, "signed", "project", "foreign_invested_projects", 4, "个", F001, "引入外资项目4个"),
    (2022, "in_production", "project", "urban_roads_upgraded", 11, "条", F001, "今年已经完成前进南路、大鹏路等城市道路11条"),
    (2022, "in_production", "project", "old_residential_blocks_renovated_since_2015", 29, "个", F001,
     "完成沙坪街道置业花园、华侨新村、和平二巷、美景花园等29个老旧小区的改造"),
    (2022, "", "green_site", "rural_beautification_subsidy_projects", 52, "个", F001, "实施生态宜居美丽乡村财政奖补项目52个"),
    # 2023 work plan (F002)
    (2023, "signed", "project", "target_projects_over_100m_cny", 55, "个", F002, Q23_TARGET),
    (2023, "signed", "project", "target_planned_investment_cny_100m", 300, "亿元", F002, Q23_TARGET),
    (2023, "signed", "project", "target_projects_over_1bn_cny", 8, "个", F002, Q23_TARGET),
    (2023, "started", "project", "target_industrial_projects_started", 40, "个", F002, Q23_BUILD),
    (2023, "in_production", "project", "target_key_industrial_projects_in_production", 20, "个", F002, Q23_BUILD),
    (2023, "started", "land_plot", "target_industrial_land_renewal_projects", 11, "个", F002, "推动11个“工改工”项目建设"),
    (2023, "", "land_plot", "target_industrial_land_supply_ha", 266.67, "公顷", F002, "力争供应工业用地266.67公顷(4000亩)"),
    (2023, "in_production", "land_plot", "target_high_standard_farmland_ha", 240, "公顷", F002, "建设240公顷(3600亩)高标准农田"),
    (2023, "in_production", "green_site", "target_water_conservation_forest_ha", 533.33, "公顷", F002,
     "建设高质量水源林533.33公顷(8000亩)"),
    (2023, "in_production", "green_site", "target_large_timber_cultivation_ha", 333.33, "公顷", F002, "大径材培育333.33公顷(5000)亩"),
    (2023, "in_production", "green_site", "target_new_afforestation_tending_ha", 600, "公顷", F002, "新造林抚育600公顷(9000亩)"),
    (2023, "in_production", "green_site", "target_rural_greening_demonstration_villages", 5, "条", F002, Q23_GREEN),
    (2023, "in_production", "green_site", "target_green_communities", 3, "个", F002, Q23_GREEN),
    # 2022 review and 2023 plan (F004)
    (2022, "", "project", "key_provincial_municipal_projects", 103, "个", F004, Q22_KEY),
    (2022, "", "project", "key_projects_investment_completed_cny_100m", 165.25, "亿元", F004, Q22_KEY),
    (2022, "started", "project", "planned_new_projects_started", 23, "个", F004, "23个计划新开工项目全部开工建设"),
    (2022, "", "project", "manufacturing_key_projects", 71, "项", F004, Q22_MFG),
    (2022, "", "project", "manufacturing_key_projects_planned_investment_cny_100m", 94.3, "亿元", F004, Q22_MFG),
    (2022, "", "project", "manufacturing_key_projects_investment_completed_cny_100m", 125.4, "亿元", F004, Q22_MFG),
    (2023, "", "project", "q1_event_projects", 32, "个", F004, Q23_EVENT),
    (2023, "", "project", "q1_event_planned_investment_cny_100m", 183, "亿元", F004, Q23_EVENT),
    (2023, "started", "project", "q1_event_projects_started", 20, "个", F004, Q23_EVENT_START),
    (2023, "started", "project", "q1_event_projects_started_investment_cny_100m", 140, "亿元", F004, Q23_EVENT_START),
    (2023, "in_production", "project", "q1_event_projects_in_production", 12, "个", F004, Q23_EVENT_PROD),
    (2023, "in_production", "project", "q1_event_projects_in_production_investment_cny_100m", 43, "亿元", F004,
     Q23_EVENT_PROD),
    (2023, "signed", "project", "target_q1_projects_signed", 21, "个", F004, Q23_Q1_SIGN),
    (2023, "signed", "project", "target_q1_projects_signed_investment_cny_100m", 80, "亿元", F004, Q23_Q1_SIGN),
    (2023, "signed", "project", "target_industrial_enterprises_over_100m_cny", 50, "个", F004, Q23_INDUSTRY),
    (2023, "signed", "project", "target_industrial_enterprises_planned_investment_cny_100m", 250, "亿元", F004,
     Q23_INDUSTRY),
]
