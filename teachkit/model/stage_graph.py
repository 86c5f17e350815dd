"""A job's recorded Dask graph read as layers and edges, and the stage each layer belongs to.

Helpers of :mod:`teachkit.model.stages` (which documents the rule): the graph
with its shuffle plumbing and sinks set apart (:class:`Graph`), the kind of
each edge between layers (:meth:`Graph.layer_edges`) and the walk that gives
every layer a stage (:func:`assign_stages`).  Linear in tasks and
dependencies apart from the walk over layers, which are few.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, deque

from teachkit.model.stage_names import MERGE, SHUFFLE_PLUMBING, SINKS
from teachkit.record.dask_names import NEW_PARTITIONS_ARG, REPARTITION_CLASS


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
        expr = job.expr or {}
        self.sinks = self._sinks(job.keys, expr.get("action"), expr.get("logical"))
        plumb = {k for k, t in tasks.items() if t.prefix in SHUFFLE_PLUMBING}
        self.merges = self._pre_shuffle_merges(plumb)
        plumb |= self.merges
        self.role: dict[str, str] = {}
        for k in plumb:
            has_pdep = any(d in plumb for d in self.deps[k])
            feeds_plumbing = any(c in plumb for c in self.dependents[k])
            if k in self.merges:
                self.role[k] = "middle"
            elif not has_pdep and feeds_plumbing and self.deps[k]:
                self.role[k] = "write"
            elif has_pdep and not feeds_plumbing:
                self.role[k] = "read"
            else:
                self.role[k] = "middle"
        self.nodes = [k for k in self.order if self.role.get(k) != "middle" and k not in self.sinks]
        self.node_set = set(self.nodes)
        self.layer = {k: _layer(tasks[k]) for k in self.nodes}
        self.layer_keys: dict[tuple, list[str]] = {}
        for k in self.nodes:
            self.layer_keys.setdefault(self.layer[k], []).append(k)
        self.clusters = self._clusters(plumb)

    def _sinks(self, keys: list[str], action: str | None, logical: str | None) -> dict[str, str]:
        """The tasks after the last stage: compute()'s gather ("driver") and a write's commit ("write").

        compute() concatenates the result partitions in one ``repartitiontofewer``
        task; ``persist()`` has no gather, and when the plan the user wrote ends
        in ``repartition(npartitions=1)`` that task is the user's coalesce, not
        a gather (compute() adds none to a single partition).
        """
        user_last = ends_in_coalesce_to_one(logical)
        out = {}
        for k in keys:
            if k not in self.tasks or self.dependents[k] or not self.deps[k]:
                continue
            kind = SINKS.get(self.tasks[k].prefix)
            if kind == "driver" and self.tasks[k].prefix == MERGE and (action == "persist" or user_last):
                continue
            if kind is not None:
                out[k] = kind
        return out

    def _pre_shuffle_merges(self, plumb: set[str]) -> set[str]:
        """Dask's merges of map outputs right before a shuffle: part of the shuffle, not a stage.

        A task-based groupby with ``split_out=k`` (and ``split_every``)
        concatenates the map tasks' outputs into fewer partitions and shuffles
        those; Spark's map tasks each write their own shuffle output.
        """
        merges: set[str] = set()
        for k in reversed(self.order):
            if (self.tasks[k].prefix == MERGE and k not in self.sinks and self.dependents[k]
                    and all(c in plumb or c in merges for c in self.dependents[k])
                    and not any(d in plumb for d in self.deps[k])):
                merges.add(k)
        return merges

    def _clusters(self, plumb: set[str]) -> list[dict]:
        """Each shuffle: the layers that write it and read it, its plumbing groups, shuffle ids, merges."""
        parent = {k: k for k in plumb}
        for k in plumb:
            for d in self.deps[k]:
                if d in plumb:
                    union(parent, k, d)
        out: dict[str, dict] = {}
        for k in plumb:
            c = out.setdefault(find(parent, k), {"write": set(), "read": set(), "groups": set(), "ids": {},
                                                 "merges": set(), "merged": set()})
            task, role = self.tasks[k], self.role[k]
            if role == "write":
                c["write"].add(self.layer[k])
                c["ids"][self.layer[k]] = task.group.rsplit("-", 1)[-1]
            elif role == "read":
                c["read"].add(self.layer[k])
            else:
                c["groups"].add(task.group)
                fed = [d for d in self.deps[k] if d in self.node_set and d not in plumb]
                c["write"].update(self.layer[d] for d in fed)  # merged before the shuffle: the map stage ends here
                if k in self.merges:
                    c["merges"].add(k)
                    c["merged"].update(fed)
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
        parent_layers: dict[tuple, set] = {}
        for parent_lay, child in set(max_in) | set(max_out):
            parent_layers.setdefault(child, set()).add(parent_lay)
        edge = {}
        for pair in set(max_in) | set(max_out):
            edge[pair] = self._edge_kind(pair, max_in.get(pair, 1), max_out.get(pair, 1), len(parent_layers[pair[1]]))
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


    def _edge_kind(self, pair: tuple, max_in: int, max_out: int, n_parent_layers: int) -> str:
        """How a child layer reads a parent layer (see :func:`assign_stages` for what each kind does).

        ``narrow``: one parent task per child and one child per parent;
        ``coalesce``: a ``repartitiontofewer`` child reads several parents, each
        feeding only it (narrow in Spark's rule); ``split``: each child reads
        one parent task, a parent feeds several children and the child reads
        no other layer (a repartition to more partitions: narrow too);
        ``fan-in``: a child combines several parents (a tree reduction);
        ``wide``: a parent feeds several children that also read something
        else (a broadcast, e.g. the small side of a join).
        """
        if max_out > 1:
            return "split" if max_in == 1 and n_parent_layers == 1 else "wide"
        if max_in > 1:
            return "coalesce" if self.tasks[self.layer_keys[pair[1]][0]].prefix == MERGE else "fan-in"
        return "narrow"


#: Edge kinds that keep the child in its parent's stage (Spark's narrow dependencies).
NARROW = ("narrow", "coalesce", "split")
#: The boundary drawn for each edge kind that starts a new stage.
BOUNDARY = {"shuffle": "shuffle", "fan-in": "tree-reduce", "wide": "broadcast"}


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
        narrow = {root(stage_of[p]) for p, kind in inc if kind in NARROW}
        trees = {root(stage_of[p]) for p, kind in inc if kind == "fan-in" and info[root(stage_of[p])]["kind"] == "reduce"}
        if narrow:
            keep = {s for s in narrow if not any(s in ancestors(o) for o in narrow if o != s)}
            sid = merge(keep)
        elif trees:
            sid = merge(trees)
        else:
            kinds = {kind for _, kind in inc}
            sid = new("reduce" if "fan-in" in kinds else "shuffle" if "shuffle" in kinds else "map")
        stage_of[lay] = sid
        info[sid]["layers"].append(lay)
        for p, kind in inc:
            ps = root(stage_of[p])
            if ps != sid:  # a narrow edge crosses stages only from an ancestor of the stage it joined
                info[sid]["parents"].setdefault(ps, BOUNDARY.get(kind, "narrow"))
    return {"stage_of": {lay: root(s) for lay, s in stage_of.items()}, "info": info, "find": root}


def spark_task_keys(g: Graph, node_stage: dict, edge: dict) -> list[list[str]]:
    """The Dask tasks of each Spark task: connected by edges inside a stage.

    A task split among several output partitions (``repartition`` to more)
    joins only its first child's Spark task, so the stage has one Spark task
    per output partition and every Dask task is in exactly one.
    """
    comp = {k: k for k in g.nodes}
    for k in g.nodes:
        same = [c for c in g.dependents[k] if c in g.node_set and node_stage[c] == node_stage[k]]
        split = [c for c in same if edge.get((g.layer[k], g.layer[c])) == "split"]
        if split:
            same = [c for c in same if c not in split] + [min(split, key=g.pos.__getitem__)]
        for c in same:
            union(comp, k, c)
    members: dict[str, list[str]] = {}
    for k in g.nodes:
        members.setdefault(find(comp, k), []).append(k)
    return list(members.values())


def topo_stages(order: list, parents: dict) -> list:
    """Stage roots with parents first (stable for the given order)."""
    done: list = []
    seen: set = set()

    def visit(s):
        if s in seen:
            return
        seen.add(s)
        for p in sorted(parents[s], key=order.index):
            visit(p)
        done.append(s)

    for s in order:
        visit(s)
    return done


_REPARTITION = re.compile(rf"^\s*{REPARTITION_CLASS}\w*:(.*)$", re.MULTILINE)
_NEW_PARTITIONS = re.compile(rf"{NEW_PARTITIONS_ARG}=(\d+)")
_TO_ONE = re.compile(rf"{REPARTITION_CLASS}\w*:.*{NEW_PARTITIONS_ARG}=1(?!\d)")


def user_repartitions(logical: str | None) -> set[int] | None:
    """Partition counts of the repartitions written in a logical plan; ``None`` if unknown.

    >>> user_repartitions("Repartition: new_partitions=3None\\n  FromMap: ..."), user_repartitions("Count: ...")
    ({3}, set())
    """
    if not logical:
        return None
    out: set[int] = set()
    for m in _REPARTITION.finditer(logical):
        n = _NEW_PARTITIONS.search(m.group(1))
        if n is None:  # by divisions or size: any count could be the user's
            return None
        out.add(int(n.group(1)))
    return out


def ends_in_coalesce_to_one(logical: str | None) -> bool:
    """Whether the plan the user wrote ends in ``repartition(npartitions=1)`` (then compute() adds no gather).

    >>> ends_in_coalesce_to_one("Repartition: new_partitions=1None\\n  FromMap: x"), ends_in_coalesce_to_one("Count:")
    (True, False)
    """
    lines = (logical or "").strip().splitlines()
    return bool(lines) and _TO_ONE.match(lines[0].strip()) is not None


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
