"""The harness's own words (column headers, statuses), in English and Chinese.

Exercise titles and hints are curriculum data and live in curriculum.toml.
"""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "passed": ("passed", "通过"),
    "failed": ("failed", "未通过"),
    "partial": ("partly passed", "部分通过"),
    "not_started": ("not started", "未开始"),
    "skipped": ("skipped", "跳过"),
    "planned": ("checks coming", "检查尚未上线"),
    "done": ("done (self-assessed)", "已完成（自评）"),
    "todo": ("to do (self-assessed)", "待完成（自评）"),
    "exercise": ("exercise", "练习"),
    "item": ("item", "条目"),
    "status": ("status", "状态"),
    "points": ("points", "得分"),
    "items_passed": ("items passed", "通过条目"),
    "next": ("next", "下一步"),
    "hint": ("hint", "提示"),
    "rerun": ("rerun", "重新运行"),
    "more": ("full traceback", "完整报错"),
    "all_passed": ("every graded item passes", "所有评分条目均已通过"),
    "progress": ("progress", "进度"),
    "open": ("open", "打开"),
    "measured": ("measured", "测量"),
    "self_tick": ("tick it in progress.toml when done", "完成后在 progress.toml 中勾选"),
}


def msg(key: str, lang: str) -> str:
    en, zh = MESSAGES[key]
    return zh if lang == "zh" else en
