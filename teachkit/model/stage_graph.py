"""A job's recorded Dask graph read as layers and edges, and the stage each layer belongs to.

Helpers of :mod:`teachkit.model.stages` (which documents the rule); linear in
tasks and dependencies apart from the walk over layers, which are few.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, deque

from teachkit.model.stage_names import SHUFFLE_PLUMBING, SINKS


class Graph:
    """The job's graph with shuffle plumbing classified and sinks set apart (one linear pass each)."""

    def __init__(self, job) -> None:
        tasks = job.dask_tasks
        self.tasks = tasks
        self.order = topo_order(tasks)
        self.pos = {k: i for i, k in enumerate(self.order)}
        self.deps = {k: [d for d in t.deps if d in tasks] for k, t in tasks.items()}
        self.dependents: dict[str, list[str]] = {k: [] for k in tasks}
        for k, ds in self.deps.items():
            for d in ds:
                self.dependents[d].append(k)
        plumb = {k for k, t in tasks.items() if t.prefix in SHUFFLE_PLUMBING}
        self.role: dict[str, str] = {}
        for k in plumb:
            has_pdep = any(d in plumb for d in self.deps[k])
            feeds_plumbing = any(c in plumb for c in self.dependents[k])
            if not has_pdep and feeds_plumbing and self.deps[k]:
                self.role[k] = "write"
            elif has_pdep and not feeds_plumbing:
                self.role[k] = "read"
            else:
                self.role[k] = "middle"
        self.sinks = {k: SINKS[tasks[k].prefix] for k in job.keys
                      if k in tasks and tasks[k].prefix in SINKS and not self.dependents[k] and self.deps[k]}
        self._fold_gather(job)
        self.nodes = [k for k in self.order if self.role.get(k) != "middle" and k not in self.sinks]
        self.node_set = set(self.nodes)
        self.layer = {k: _layer(tasks[k]) for k in self.nodes}
        self.layer_keys: dict[tuple, list[str]] = {}
        for k in self.nodes:
            self.layer_keys.setdefault(self.layer[k], []).append(k)
        self.clusters = self._clusters(plumb)

    def _fold_gather(self, job) -> None:
        """Fold Dask's own coalesce under compute()'s gather into the gather (a sink, not a stage).

        ``compute()`` concatenates the result partitions in one ``repartitiontofewer``
        task.  When the job's last step is itself a coalesce Dask added (a groupby
        shuffles into more partitions than its ``split_out`` and concatenates them
        down), the gather reads that coalesce's tasks: together they are the
        gather to the driver.  A coalesce the user asked for
        (``df.repartition(npartitions=k)``, visible in the logical plan) stays a
        stage; without a logical plan nothing is folded.
        """
        user = user_repartitions((job.expr or {}).get("logical"))
        if user is None:
            return
        coalesce = "repartitiontofewer"
        gather = [k for k, kind in self.sinks.items() if kind == "driver" and self.tasks[k].prefix == coalesce]
        by_group: dict[str, list[str]] = {}
        for k, t in self.tasks.items():
            by_group.setdefault(t.group, []).append(k)

        def feeds_only_the_gather(k: str) -> bool:
            return bool(self.deps[k]) and bool(self.dependents[k]) and all(c in self.sinks for c in self.dependents[k])

        while gather:
            key = gather.pop()
            for group in {self.tasks[d].group for d in self.deps[key]}:
                keys = by_group[group]
                if (self.tasks[keys[0]].prefix == coalesce and len(keys) not in user and keys[0] not in self.sinks
                        and all(feeds_only_the_gather(k) for k in keys)):
                    self.sinks.update(dict.fromkeys(keys, "driver"))
                    gather += keys

    def _clusters(self, plumb: set[str]) -> list[dict]:
        """Each shuffle: its write layers, read layers, plumbing groups and shuffle ids."""
        parent = {k: k for k in plumb}
        for k in plumb:
            for d in self.deps[k]:
                if d in plumb:
                    union(parent, k, d)
        out: dict[str, dict] = {}
        for k in plumb:
            c = out.setdefault(find(parent, k), {"write": set(), "read": set(), "groups": set(), "ids": {}})
            task, role = self.tasks[k], self.role[k]
            if role == "write":
                c["write"].add(self.layer[k])
                c["ids"][self.layer[k]] = task.group.rsplit("-", 1)[-1]
            elif role == "read":
                c["read"].add(self.layer[k])
            else:
                c["groups"].add(task.group)
        return list(out.values())

    def layer_edges(self):
        """Layers in topological order, their predecessors, and each edge's kind."""
        max_in: dict[tuple, int] = {}
        max_out: dict[tuple, int] = {}
        layer, nodes = self.layer, self.node_set
        for k in self.nodes:
            lk = layer[k]
            for counts, table, flip in ((Counter(layer[d] for d in self.deps[k] if d in nodes), max_in, False),
                                        (Counter(layer[c] for c in self.dependents[k] if c in nodes), max_out, True)):
                for other, n in counts.items():
                    pair = (lk, other) if flip else (other, lk)
                    if n > table.get(pair, 0):
                        table[pair] = n
        edge = {}
        for pair in set(max_in) | set(max_out):
            if max_out.get(pair, 1) > 1:
                edge[pair] = "wide"
            elif max_in.get(pair, 1) > 1:
                edge[pair] = "fan-in"
            else:
                edge[pair] = "narrow"
        for c in self.clusters:
            for w in c["write"]:
                for r in c["read"]:
                    edge[(w, r)] = "shuffle"
        # Ties between ready layers break on names (stable across runs), not on the graph's dict order.
        first: dict[tuple, tuple] = {}
        for k in self.nodes:
            if layer[k] not in first:
                first[layer[k]] = (self.tasks[k].prefix, layer[k][0], -1 if layer[k][1] is None else layer[k][1])
        preds: dict[tuple, list] = {lay: [] for lay in first}
        for a, b in edge:
            if a != b:
                preds[b].append(a)
        return _topo_layers(first, preds), preds, edge


def assign_stages(g: Graph, order: list, preds: dict, edge: dict) -> dict:
    """Walk the layers in order and give each a stage (union-find over stage ids)."""
    parent: dict[int, int] = {}
    info: dict[int, dict] = {}
    stage_of: dict[tuple, int] = {}

    def new(kind: str) -> int:
        sid = len(parent)
        parent[sid] = sid
        info[sid] = {"kind": kind, "layers": [], "parents": {}}
        return sid

    def root(s: int) -> int:
        return find(parent, s)

    def ancestors(s: int) -> set[int]:
        seen, todo = set(), [s]
        while todo:
            for p in info[root(todo.pop())]["parents"]:
                p = root(p)
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen

    def merge(sids: set[int]) -> int:
        top, *rest = sorted(sids)
        for s in rest:
            parent[s] = top
            info[top]["layers"] += info[s]["layers"]
            info[top]["parents"].update(info[s]["parents"])
            if info[top]["kind"] == "map":
                info[top]["kind"] = info[s]["kind"]
        return top

    for lay in order:
        inc = [(p, edge[(p, lay)]) for p in preds[lay]]
        narrow = {root(stage_of[p]) for p, kind in inc if kind == "narrow"}
        trees = {root(stage_of[p]) for p, kind in inc if kind == "fan-in" and info[root(stage_of[p])]["kind"] == "reduce"}
        if narrow:
            keep = {s for s in narrow if not any(s in ancestors(o) for o in narrow if o != s)}
            sid = merge(keep)
        elif trees:
            sid = merge(trees)
        else:
            kinds = {kind for _, kind in inc}
            coalesce = g.tasks[g.layer_keys[lay][0]].prefix == "repartitiontofewer"
            sid = new("coalesce" if "fan-in" in kinds and coalesce else "reduce" if "fan-in" in kinds
                      else "shuffle" if "shuffle" in kinds else "broadcast" if kinds else "map")
        stage_of[lay] = sid
        info[sid]["layers"].append(lay)
        for p, kind in inc:
            ps = root(stage_of[p])
            if ps != sid:
                boundary = {"shuffle": "shuffle", "fan-in": "tree-reduce", "wide": "broadcast", "narrow": "broadcast"}[kind]
                if info[sid]["kind"] == "coalesce" and kind == "fan-in":
                    boundary = "coalesce"
                info[sid]["parents"].setdefault(ps, boundary)
    return {"stage_of": {lay: root(s) for lay, s in stage_of.items()}, "info": info, "find": root}


_REPARTITION = re.compile(r"^\s*Repartition\w*:(.*)$", re.MULTILINE)


def user_repartitions(logical: str | None) -> set[int] | None:
    """Partition counts of the repartitions written in a logical plan; ``None`` if unknown.

    >>> user_repartitions("Repartition: new_partitions=3None\\n  FromMap: ..."), user_repartitions("Count: ...")
    ({3}, set())
    """
    if not logical:
        return None
    out: set[int] = set()
    for m in _REPARTITION.finditer(logical):
        n = re.search(r"new_partitions=(\d+)", m.group(1))
        if n is None:  # by divisions or size: any count could be the user's
            return None
        out.add(int(n.group(1)))
    return out


def _layer(task) -> tuple:
    """A task's layer: its group, split by level for tree keys ``(name, level, i)``."""
    parts = task.key.split("|")
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return (task.group, int(parts[1]))
    return (task.group, None)


def find(parent: dict, x):
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


def union(parent: dict, a, b) -> None:
    ra, rb = find(parent, a), find(parent, b)
    if ra != rb:
        parent[rb] = ra


def topo_order(tasks: dict) -> list[str]:
    """Task keys, dependencies first (Kahn; ties keep the graph's order). Cycles cannot occur in a dask graph."""
    indeg = {k: 0 for k in tasks}
    dependents: dict[str, list[str]] = {k: [] for k in tasks}
    for k, t in tasks.items():
        for d in t.deps:
            if d in tasks:
                indeg[k] += 1
                dependents[d].append(k)
    ready = deque(k for k, n in indeg.items() if n == 0)
    out = []
    while ready:
        k = ready.popleft()
        out.append(k)
        for c in dependents[k]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(out) < len(tasks):  # defensive: keep every task
        seen = set(out)
        out += [k for k in tasks if k not in seen]
    return out


def _topo_layers(first: dict, preds: dict) -> list:
    """Layers in dependency order; ties by prefix, group and level."""
    indeg = {lay: len(set(preds[lay])) for lay in first}
    succ: dict = {lay: set() for lay in first}
    for lay, ps in preds.items():
        for p in set(ps):
            succ[p].add(lay)
    heap = [(first[lay], i, lay) for i, lay in enumerate(first) if indeg[lay] == 0]
    heapq.heapify(heap)
    index = {lay: i for i, lay in enumerate(first)}
    out = []
    while heap:
        _, _, lay = heapq.heappop(heap)
        out.append(lay)
        for c in succ[lay]:
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(heap, (first[c], index[c], c))
    if len(out) < len(first):
        raise ValueError("the job's task layers form a cycle; cannot cut it into stages")
    return out
