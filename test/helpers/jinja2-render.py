"""Renders a template corpus with the real Jinja2, as the original VmShepherd rendered userdata.

Reads {"contexts": {name: ctx}, "templates": [{"name", "template", "context"}]} as JSON on stdin and
writes [{"name", "ok", "output" | "error"}] as JSON on stdout: one process for the whole corpus.
SandboxedEnvironment() with default options, as the differential test asks of our renderer.
"""
import copy
import json
import sys

import jinja2
from jinja2.sandbox import SandboxedEnvironment


def main():
    corpus = json.load(sys.stdin)
    env = SandboxedEnvironment()
    results = []
    for case in corpus["templates"]:
        ctx = case["context"]
        if isinstance(ctx, str):
            ctx = corpus["contexts"][ctx]
        ctx = copy.deepcopy(ctx)  # a template may change its context (list.append, dict.update)
        try:
            out = env.from_string(case["template"]).render(ctx)
            results.append({"name": case["name"], "ok": True, "output": out})
        except Exception as err:  # any failure is an "error" result; its kind is compared, not its text
            results.append({"name": case["name"], "ok": False, "error": f"{type(err).__name__}: {err}"})
    json.dump({"jinja2": jinja2.__version__, "results": results}, sys.stdout, ensure_ascii=False)


main()
