"""Flow validation: every problem at once, each with a place, a stable code and advice.

The checks run in one pass over the nodes and edges plus a few linear graph
algorithms from networkx (reachability both ways, strongly connected
components), so validation stays linear in the size of the flow.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import networkx as nx

from procedo.flow.model import EventTrigger, Flow, Node, ScheduleTrigger
from procedo.flow.problems import Problem
from procedo.flow.schedule import FILTER_PATH, schedule_problems
from procedo.gcpause import gc_paused
from procedo.nodetypes import CheckContext, NodeType, Params, Port
from procedo.registry import Registry, default_registry
from procedo.rules.check import check_rule
from procedo.subjects import SubjectType, builtin_subject_types
from procedo.templates import KNOWN_VARIABLES, MAX_TEMPLATE_CHARS, unknown_variables


@dataclass(frozen=True)
class CheckedNode:
    node: Node
    node_type: NodeType[Any]
    params: Params
    ports: tuple[Port, ...]
    port_names: frozenset[str]


@dataclass
class CheckedFlow:
    """A flow with its nodes' params parsed, and every problem found in it."""

    flow: Flow
    nodes: dict[str, CheckedNode] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_flow(
    flow: Flow,
    registry: Registry | None = None,
    subject_types: Mapping[str, SubjectType] | None = None,
) -> CheckedFlow:
    registry = default_registry() if registry is None else registry
    subject_types = builtin_subject_types() if subject_types is None else subject_types
    with gc_paused():
        return _check_flow(flow, registry, subject_types)


def _check_flow(
    flow: Flow, registry: Registry, subject_types: Mapping[str, SubjectType]
) -> CheckedFlow:
    checked = CheckedFlow(flow)
    problems = checked.problems

    subject_type = subject_types.get(flow.subject_type)
    if subject_type is None:
        problems.append(
            Problem(
                code="flow.subject_type.unknown",
                message=f"unknown subject type '{flow.subject_type}'; "
                f"use one of: {', '.join(sorted(subject_types))}",
                path="$.subject_type",
            )
        )
    problems.extend(_flow_rule_problems(flow, subject_type))

    by_id = _index_nodes(flow.nodes, problems)
    context = CheckContext(subject_type=subject_type)
    for node in by_id.values():
        checked_node = _check_node(node, registry, context, problems)
        if checked_node is not None:
            checked.nodes[node.id] = checked_node

    links = _check_edges(flow, by_id, checked.nodes, problems)
    graph = nx.DiGraph()
    graph.add_nodes_from(by_id)
    graph.add_edges_from((source, target) for source, _port, target in links)
    _check_start_and_end(flow, checked.nodes, problems)
    _check_unconnected_ports(checked.nodes, links, problems)
    _check_reachability(checked.nodes, graph, problems)
    _check_busy_loops(checked.nodes, graph, problems)
    return checked


def _flow_rule_problems(flow: Flow, subject_type: SubjectType | None) -> list[Problem]:
    rules = []
    if isinstance(flow.trigger, EventTrigger) and flow.trigger.when is not None:
        rules.append((flow.trigger.when, "$.trigger.when"))
    if isinstance(flow.trigger, ScheduleTrigger) and flow.trigger.filter is not None:
        rules.append((flow.trigger.filter, "$.trigger.filter"))
    if flow.stop_when is not None:
        rules.append((flow.stop_when, "$.stop_when"))
    found = [
        Problem(code=p.code, message=p.message, path=p.path)
        for rule, path in rules
        for p in check_rule(rule, subject_type, path)
    ]
    if isinstance(flow.trigger, ScheduleTrigger):
        # The filter's SQL is proven only once the rule itself is sound.
        filter_checked = not any((p.path or "").startswith(FILTER_PATH) for p in found)
        found += schedule_problems(flow.trigger, filter_checked)
    return found


def _index_nodes(nodes: Sequence[Node], problems: list[Problem]) -> dict[str, Node]:
    by_id: dict[str, Node] = {}
    for index, node in enumerate(nodes):
        if node.id in by_id:
            problems.append(
                Problem(
                    code="node.id.duplicate",
                    message=f"another node already has id '{node.id}'; give each node its own id",
                    node=node.id,
                    path=f"$.nodes[{index}].id",
                )
            )
            continue
        by_id[node.id] = node
    return by_id


def _check_node(
    node: Node, registry: Registry, context: CheckContext, problems: list[Problem]
) -> CheckedNode | None:
    node_type = registry.get(node.type)
    if node_type is None:
        close = difflib.get_close_matches(node.type, list(registry), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "run `procedo nodes` for the catalogue"
        problems.append(
            Problem(
                code="node.type.unknown",
                message=f"unknown node type '{node.type}'; {hint}",
                node=node.id,
                path="$.type",
            )
        )
        return None
    try:
        params = node_type.parse_params(node.params)
    except msgspec.ValidationError as exc:
        message, _, at = str(exc).partition(" - at `")
        problems.append(
            Problem(
                code="node.params.invalid",
                message=f"{node_type.type} params: {message}",
                node=node.id,
                path="$.params" + at.rstrip("`")[1:] if at else "$.params",
            )
        )
        return None
    if node_type.check is not None:
        for problem in node_type.check(params, context):
            problems.append(
                Problem(
                    code=problem.code,
                    message=problem.message,
                    node=node.id,
                    path="$.params" + problem.path[1:],
                )
            )
    problems.extend(_variable_problems(node))
    ports = tuple(node_type.ports(params))
    return CheckedNode(node, node_type, params, ports, frozenset(p.name for p in ports))


def _texts(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every text in a node's params with its JSON path, without recursion."""
    stack = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            yield item, at
        elif isinstance(item, dict):
            stack.extend((v, f"{at}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))


def _variable_problems(node: Node) -> list[Problem]:
    """Texts (email, letter, task title) printing a variable no run has: each run would fail."""
    found = []
    for text, path in _texts(node.params, "$.params"):
        if "vars" not in text or len(text) > MAX_TEMPLATE_CHARS or "{" not in text:
            continue
        for name, line in unknown_variables(text):
            found.append(
                Problem(
                    code="template.vars.unknown",
                    message=f"line {line}: no run has the variable '{name}' (runs have "
                    f"{', '.join(sorted(KNOWN_VARIABLES))}); fix the name, or say what to "
                    f"print without it: {{{{ vars.{name} | default('...') }}}}",
                    node=node.id,
                    path=path,
                )
            )
    return found


def _check_edges(
    flow: Flow,
    by_id: Mapping[str, Node],
    checked: Mapping[str, CheckedNode],
    problems: list[Problem],
) -> list[tuple[str, str, str]]:
    """Report edge problems; return the usable edges as (source, port, target)."""
    links: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for index, edge in enumerate(flow.edges):
        path = f"$.edges[{index}]"
        if edge.id in seen:
            problems.append(
                Problem(
                    code="edge.id.duplicate",
                    message=f"another edge already has id '{edge.id}'; give each edge its own id",
                    edge=edge.id,
                    path=path,
                )
            )
            continue
        seen.add(edge.id)
        broken = False
        for end in ("source", "target"):
            if getattr(edge, end) not in by_id:
                problems.append(
                    Problem(
                        code=f"edge.{end}.unknown",
                        message=f"the edge's {end} '{getattr(edge, end)}' is not a node of this "
                        "flow; connect it to an existing node or delete it",
                        edge=edge.id,
                        path=path,
                    )
                )
                broken = True
        if broken:
            continue
        source, target = checked.get(edge.source), checked.get(edge.target)
        if source is not None and edge.source_port not in source.port_names:
            ports = ", ".join(p.name for p in source.ports) or "none"
            problems.append(
                Problem(
                    code="edge.port.unknown",
                    message=f"node '{edge.source}' ({source.node_type.type}) has no output port "
                    f"'{edge.source_port}'; its ports are: {ports}",
                    edge=edge.id,
                    path=path,
                )
            )
        if target is not None and target.node_type.type == "start":
            problems.append(
                Problem(
                    code="edge.target.start",
                    message="nothing may lead into the start node; point the edge elsewhere",
                    edge=edge.id,
                    path=path,
                )
            )
        allowed = target.node_type.input_ports if target is not None else None
        if allowed is not None and edge.source_port not in allowed:
            type_name = target.node_type.type if target is not None else ""
            problems.append(
                Problem(
                    code=f"{type_name}.source.invalid",
                    message=f"'{type_name}' may only follow a {' or '.join(sorted(allowed))} "
                    f"port, not '{edge.source_port}'; connect it to such a port instead",
                    edge=edge.id,
                    path=path,
                )
            )
        links.append((edge.source, edge.source_port, edge.target))
    return links


def _check_start_and_end(
    flow: Flow, checked: Mapping[str, CheckedNode], problems: list[Problem]
) -> None:
    starts = [n for n in checked.values() if n.node_type.type == "start"]
    if not starts:
        problems.append(
            Problem(code="flow.start.missing", message="the flow needs one start node; add one")
        )
    for extra in starts[1:]:
        problems.append(
            Problem(
                code="flow.start.multiple",
                message=f"the flow already starts at '{starts[0].node.id}'; a flow has exactly "
                "one start node: delete this one",
                node=extra.node.id,
            )
        )
    if not any(n.node_type.type == "end" for n in checked.values()):
        problems.append(
            Problem(
                code="flow.end.missing", message="the flow needs at least one end node; add one"
            )
        )


def _check_unconnected_ports(
    checked: Mapping[str, CheckedNode], links: list[tuple[str, str, str]], problems: list[Problem]
) -> None:
    used: defaultdict[str, set[str]] = defaultdict(set)
    for source, port_name, _target in links:
        used[source].add(port_name)
    for node_id, node in checked.items():
        for port in node.ports:
            if not port.optional and port.name not in used[node_id]:
                problems.append(
                    Problem(
                        code="node.port.unconnected",
                        message=f"output port '{port.name}' ({port.label.en}) leads nowhere; "
                        "connect it to the next step",
                        node=node_id,
                        path=f"$.ports.{port.name}",
                    )
                )


def _check_reachability(
    checked: Mapping[str, CheckedNode], graph: nx.DiGraph, problems: list[Problem]
) -> None:
    starts = [i for i, n in checked.items() if n.node_type.type == "start"]
    if not starts:
        return
    reachable: set[str] = set(starts)
    for start in starts:
        reachable |= nx.descendants(graph, start)
    terminals = [i for i, n in checked.items() if n.node_type.terminal]
    finishing: set[str] = set(terminals)
    reverse = graph.reverse(copy=False)
    for terminal in terminals:
        finishing |= nx.descendants(reverse, terminal)
    for node_id in checked:
        if node_id not in reachable:
            problems.append(
                Problem(
                    code="node.unreachable",
                    message="no path from the start node leads here; connect it or delete it",
                    node=node_id,
                )
            )
        elif node_id not in finishing and terminals:
            problems.append(
                Problem(
                    code="node.dead_end",
                    message="no path from here reaches an end node; instances would get stuck",
                    node=node_id,
                )
            )


def _check_busy_loops(
    checked: Mapping[str, CheckedNode], graph: nx.DiGraph, problems: list[Problem]
) -> None:
    instant = {i for i, n in checked.items() if not n.node_type.waits}
    sub = nx.DiGraph()
    sub.add_nodes_from(instant)
    sub.add_edges_from((a, b) for a, b in graph.edges if a in instant and b in instant)
    for component in nx.strongly_connected_components(sub):
        members = sorted(component)
        if len(members) == 1 and not sub.has_edge(members[0], members[0]):
            continue
        problems.append(
            Problem(
                code="flow.busy_loop",
                message=f"the loop {' -> '.join(members)} has no wait or task in it and would "
                "run forever; put a wait or a task on the loop",
                node=members[0],
            )
        )
