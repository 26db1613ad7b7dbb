"""What made the Terminal's answers cheaper draws the same bytes as before: the trace bar's
lists drawn in Python (app/web/bar_markup.py) against the Jinja loops they replace, and the
``kubectl get`` tables kept per state of the cluster (app/terminal/get_text.py) against
tables drawn afresh."""

from __future__ import annotations

import pytest

from app.cluster import scenarios
from app.render.sandbox import source_options, target_suggestions
from app.render.tables import format_table, get_table
from app.terminal import Session, run
from app.terminal.get_text import table_text
from app.web.rendering import template_environment

#: The trace bar's lists as _trace_bar.html drew them with Jinja loops.
JINJA_LOOPS = """<select name="from">
      {%- for group in sources | groupby("group") %}
      <optgroup label="{{ group.grouper }}">
        {%- for o in group.list %}<option value="{{ o.value }}" {% if selected == o.value %}selected{% endif %}>{{ o.label }}</option>{% endfor %}
      </optgroup>
      {%- endfor %}
    </select>
<datalist id="bar-targets">{% for t in suggestions %}<option value="{{ t }}">{% endfor %}</datalist>"""
PYTHON = """<select name="from">{{ source_groups(sources, selected) }}
    </select>
<datalist id="bar-targets">{{ target_options(suggestions) }}</datalist>"""

ODD = [
    {"value": 'pod/x/a"b', "label": "x/a <b> & 'c'", "group": "pods"},
    {"value": "external", "label": "outside", "group": "Outside"},
    {"value": "pod/x/b", "label": "x/b", "group": "Pods"},
    {"value": "node/n", "label": "n (10.0.0.1)", "group": "Nodes (host network)"},
]


@pytest.mark.parametrize("scenario", ["web-service", "ingress-two-apps"])
@pytest.mark.parametrize("selected", [None, "external", "node/worker-1", "pod/default/client"])
def test_the_trace_bars_lists_are_the_jinja_loops_bytes(scenario: str, selected: str) -> None:
    cluster = scenarios.build(scenario)
    env = template_environment(".")
    context = {
        "sources": source_options(cluster),
        "suggestions": target_suggestions(cluster),
        "selected": selected,
    }
    assert env.from_string(PYTHON).render(context) == env.from_string(JINJA_LOOPS).render(context)


def test_odd_names_and_groups_are_escaped_and_grouped_as_jinja_does() -> None:
    env = template_environment(".")
    context = {"sources": ODD, "suggestions": ['http://a/?x="1"&y=<2>'], "selected": 'pod/x/a"b'}
    assert env.from_string(PYTHON).render(context) == env.from_string(JINJA_LOOPS).render(context)


@pytest.mark.parametrize(
    "line",
    [
        "kubectl get pods -o wide",
        "kubectl get pods -A --show-labels",
        "kubectl get svc,deploy --no-headers",
        "kubectl get all",
        "kubectl get nodes",
        "kubectl get endpoints,events -A",
        "kubectl get pods -l app=web",
    ],
)
def test_kept_tables_print_what_fresh_ones_do(line: str) -> None:
    cluster = scenarios.build("web-service")
    for now in (None, 1_767_225_601.0, 1_767_225_601.4, 1_767_229_000.0, 1_767_225_601.0):
        kept = run(cluster, line, Session(), now).output
        cluster.state.memo.clear()
        fresh = run(cluster, line, Session(), now).output
        assert kept == fresh, (line, now)


def test_a_kept_table_follows_the_cluster() -> None:
    cluster = scenarios.build("web-service")
    before = run(cluster, "kubectl get deploy", Session(), 1_767_225_700.0).output
    run(cluster, "kubectl scale deploy web --replicas=5", Session(), 1_767_225_700.0)
    after = run(cluster, "kubectl get deploy", Session(), 1_767_225_700.0).output
    assert before != after and "/5" in after


def test_table_text_is_format_table_of_get_table() -> None:
    cluster = scenarios.build("web-service")
    pods = cluster.list("Pod")
    for now in (1_767_225_600.0, 1_767_312_000.0):
        expected = format_table(get_table("Pod", pods, now), with_namespace=True)
        assert table_text(cluster, "Pod", pods, now, with_namespace=True) == expected
