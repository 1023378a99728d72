"""The reports' HTML, made from Jinja templates (report/templates/) with autoescaping: every text from a run (prompts,
model outputs, feedback) is escaped, so a model's output cannot add markup or script to the page."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("behavopt.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x, digits=0: "-" if x is None else f"{x:.{digits}%}"
    env.filters["score"] = lambda x: "-" if x is None else f"{x:.3f}"
    env.filters["counted"] = lambda n, noun: f"{n} {noun}" + ("" if n == 1 else "s")
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
