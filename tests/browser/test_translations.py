"""No English left in the Dutch and German designer (issue 13).

Only the UI counts: what the tenant wrote (flow names, node labels) is shown as written.
The English source strings are the designer's own texts (designer/src/texts/*.ts,
[en, nl, de] each) and the labels the server declares in three languages (node
types, ports, subject types). The test walks every page, the editor with each node's
form and the flow's trigger form, in nl and in de, and fails on any visible text,
placeholder, tooltip or option that is exactly an English source string whose
translation differs ("Status" is Status in all three and is not counted).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import ROOT, Server, procedo_command
from tests.browser.test_designer_journey import api, log_in

TEXTS = ROOT / "designer" / "src" / "texts"
QUOTED = r'"((?:[^"\\]|\\.)*)"'
ENTRY = re.compile(
    rf"(\w+|\"[^\"]+\"):\s*\[\s*{QUOTED}\s*,\s*{QUOTED}\s*,\s*{QUOTED}\s*,?\s*\]", re.S
)
LANGS = ("en", "nl", "de")

# Everything the page shows as text: text nodes, placeholders, tooltips, labels, options.
VISIBLE_TEXTS = """() => {
  const out = [];
  const shown = (el) => {
    const s = getComputedStyle(el);
    return s.display !== 'none' && s.visibility !== 'hidden';
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!el || el.closest('code, pre, script, style, [data-i18n-skip]') || !shown(el)) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], input[type=submit]')) {
    for (const a of ['placeholder', 'aria-label', 'value']) {
      const v = el.getAttribute(a);
      if (v && (a !== 'value' || el.type === 'submit')) out.push(v.trim());
    }
  }
  for (const o of document.querySelectorAll('option')) out.push(o.textContent.trim());
  return out;
}"""


def _triples(value: Any) -> Iterator[tuple[str, str, str]]:
    """Every {"en", "nl", "de"} object inside a JSON document."""
    if isinstance(value, dict):
        if all(isinstance(value.get(lang), str) for lang in LANGS):
            yield value["en"], value["nl"], value["de"]
        for item in value.values():
            yield from _triples(item)
    elif isinstance(value, list):
        for item in value:
            yield from _triples(item)


def source_triples() -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for path in sorted(TEXTS.glob("*.ts")):
        for _key, *texts in ENTRY.findall(path.read_text()):
            en, nl, de = (json.loads(f'"{t}"') for t in texts)
            found.append((en, nl, de))
    catalogue = subprocess.run(
        [*procedo_command(), "nodes", "--json"], capture_output=True, text=True, check=True
    )
    found.extend(_triples(json.loads(catalogue.stdout)))
    for path in sorted((ROOT / "backend" / "procedo" / "subject_types").glob("*.json")):
        found.extend(_triples(json.loads(path.read_text())))
    return found


def english_patterns(lang: str) -> list[re.Pattern[str]]:
    """The English strings that must not show in `lang`, as whole-text patterns.

    A string some text keeps as it is in `lang` ("Flow" in Dutch, "Port" in German)
    is the word that language uses, not a leak.
    """
    index = LANGS.index(lang)
    triples = source_triples()
    kept = {t[0].strip() for t in triples if t[0].strip() == t[index].strip()}
    patterns = {}
    for triple in triples:
        en = triple[0].strip()
        if en in kept or len(re.sub(r"\{\w+\}|\W", "", en)) < 3:
            continue
        body = re.escape(en)
        body = re.sub(r"\\\{\w+\\\}", ".+?", body)
        patterns[en] = re.compile(rf"^{body}$", re.S)
    return list(patterns.values())


def untranslated(
    texts: Iterable[str], patterns: list[re.Pattern[str]], data: frozenset[str] = frozenset()
) -> set[str]:
    longest_first = sorted((item for item in data if len(item) > 2), key=len, reverse=True)
    found = set()
    for text in texts:
        if text in data:
            continue
        own_words = without_data(text, longest_first)
        if any(p.match(own_words) for p in patterns):
            found.add(text)
    return found


def without_data(text: str, longest_first: list[str]) -> str:
    """The text with what the tenant wrote cut out: "Verwijder Monthly VAT return" -> the UI's
    own words around it, so an English flow name or a port called "approved" is no leak."""
    for item in longest_first:
        if item in text:
            text = text.replace(item, "\u2026")
    return text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def tenant_data(page: Any) -> frozenset[str]:
    """What the tenant wrote in its flows (names, descriptions, node ids and labels, ports,
    texts of tasks and emails): data, shown as written."""
    shipped = {
        json.loads(p.read_text())["key"] for p in (ROOT / "docs" / "examples").glob("*.json")
    }
    found: set[str] = set()
    for summary in api(page, "GET", "/flows"):
        found.add(summary["name"])
        if summary["key"] in shipped:  # the walk opens only these (others have 500 nodes)
            found.update(_strings(api(page, "GET", f"/flows/{summary['key']}")["draft"]))
    return frozenset(text.strip() for text in found if text.strip())


def set_lang(page: Any, lang: str) -> None:
    page.click(f"[data-lang='{lang}']")
    page.wait_for_function(f"document.documentElement.lang === '{lang}'")


def walk(page: Any) -> Iterator[tuple[str, list[str]]]:
    """Every page and form, each with the texts it shows."""
    # The flows the demo ships (other tests add flows of their own, as big as 500 nodes).
    shipped = {
        json.loads(p.read_text())["key"] for p in (ROOT / "docs" / "examples").glob("*.json")
    }
    flow_keys = [f["key"] for f in api(page, "GET", "/flows") if f["key"] in shipped]
    subjects = api(page, "GET", "/subjects?limit=5")
    plain = ["/flows", "/inbox", "/subjects", "/tasks", "/instances"]
    plain += ["/roles", "/users", "/schedules", "/outbox", "/settings", "/no-such-page"]
    plain += ["/approvals", "/procedures"]
    plain += [f"/subjects/{s['id']}" for s in subjects[:2]]
    for path in plain:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        yield path, page.evaluate(VISIBLE_TEXTS)
    for key in flow_keys:
        page.goto(f"/flows/{key}")
        page.wait_for_selector(".react-flow__node")
        page.wait_for_load_state("networkidle")
        yield f"/flows/{key} (trigger form)", page.evaluate(VISIBLE_TEXTS)
        ids = page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")
        for node_id in ids:
            page.locator(f".react-flow__node[data-id='{node_id}']").click()
            page.wait_for_load_state("networkidle")
            yield f"/flows/{key} node {node_id}", page.evaluate(VISIBLE_TEXTS)
        page.keyboard.press("Escape")
        page.goto(f"/running/{key}")
        page.wait_for_load_state("networkidle")
        first = page.locator("[data-testid='instances'] li, .instances-list li").first
        if first.count():
            first.click()
            page.wait_for_load_state("networkidle")
        yield f"/running/{key}", page.evaluate(VISIBLE_TEXTS)


def test_the_detector_finds_english(page: Any, server: Server) -> None:
    """In English the same walk must find the English strings: else the test proves nothing."""
    log_in(page, server)
    set_lang(page, "en")
    page.goto("/flows")
    page.wait_for_load_state("networkidle")
    found = untranslated(page.evaluate(VISIBLE_TEXTS), english_patterns("de"))
    assert {"New flow", "Import"} <= found, found


@pytest.mark.parametrize("lang", ["nl", "de"])
def test_no_english_in_the_ui(page: Any, server: Server, lang: str) -> None:
    log_in(page, server)
    set_lang(page, lang)
    patterns = english_patterns(lang)
    assert len(patterns) > 200, "the English source strings were not found"
    data = tenant_data(page)
    leaks: dict[str, set[str]] = {}
    for where, texts in walk(page):
        found = untranslated(texts, patterns, data)
        if found:
            leaks[where] = found
    assert not leaks, (
        "English in the "
        + lang
        + " UI:\n"
        + "\n".join(f"  {where}: {sorted(found)}" for where, found in leaks.items())
    )
