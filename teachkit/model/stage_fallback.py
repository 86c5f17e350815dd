"""A rough stand-in for :func:`teachkit.model.stages.derive_stages`.

Used by the player only while the real stage rule is not available: task
groups joined by elementwise edges (task ``i`` feeds task ``i`` of a group of
the same size) form one stage; one task per partition index.  No plumbing is
collapsed, so P2P transfer/barrier tasks show up as stages of their own.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from teachkit.model.stages import SparkTask, Stage

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.jobs import Job


def fallback_stages(job: Job) -> list[Stage]:
    """Approximate stages: chains of elementwise task groups."""
    tasks = job.dask_tasks
    size = defaultdict(int)
    for t in tasks.values():
        size[t.group] += 1
    parent = {g: g for g in size}

    def find(g: str) -> str:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for t in tasks.values():
        for d in t.deps:
            dt = tasks.get(d)
            if dt is None or dt.group == t.group:
                continue
            if len(t.deps) == 1 and dt.index is not None and dt.index == t.index and size[dt.group] == size[t.group]:
                parent[find(dt.group)] = find(t.group)
    order = _topo_groups(job)
    comp_order: list[str] = []
    for g in order:
        root = find(g)
        if root not in comp_order:
            comp_order.append(root)
    sid = {root: i for i, root in enumerate(comp_order)}
    members: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    prefixes: dict[int, list[str]] = defaultdict(list)
    for g in order:
        s = sid[find(g)]
        pre = next(t.prefix for t in tasks.values() if t.group == g)
        if pre not in prefixes[s]:
            prefixes[s].append(pre)
    parents: dict[int, set[int]] = defaultdict(set)
    for key, t in tasks.items():
        s = sid[find(t.group)]
        members[s][t.index or 0].append(key)
        for d in t.deps:
            if d in tasks and sid[find(tasks[d].group)] != s:
                parents[s].add(sid[find(tasks[d].group)])
    outputs = set(job.keys)
    stages = []
    for s in range(len(comp_order)):
        spark = []
        for part, keys in sorted(members[s].items()):
            atts = [tasks[k].final for k in keys if tasks[k].final is not None]
            spark.append(SparkTask(stage=s, partition=part, keys=keys, worker=atts[-1].worker if atts else None,
                                   slot=atts[-1].slot if atts else None, start=None, stop=None,
                                   attempts=max((len(tasks[k].attempts) for k in keys), default=0),
                                   status="done" if atts and all(a.outcome == "done" for a in atts) else "pending"))
        keys_here = {k for ks in members[s].values() for k in ks}
        stages.append(Stage(id=s, name=" → ".join(p.replace("_", " ").strip() for p in prefixes[s]),
                            ops=list(prefixes[s]), groups=[g for g in order if sid[find(g)] == s], tasks=spark,
                            parents=sorted(parents[s]), boundaries={p: "shuffle" for p in parents[s]},
                            output="driver" if keys_here & outputs else "shuffle", job=job))
    return stages


def _topo_groups(job: Job) -> list[str]:
    """Task groups in dependency order (parents first)."""
    tasks = job.dask_tasks
    deps: dict[str, set[str]] = defaultdict(set)
    groups: list[str] = []
    for t in tasks.values():
        if t.group not in deps:
            groups.append(t.group)
            deps[t.group]
        for d in t.deps:
            if d in tasks and tasks[d].group != t.group:
                deps[t.group].add(tasks[d].group)
    done: list[str] = []
    seen: set[str] = set()

    def visit(g: str) -> None:
        stack = [(g, iter(sorted(deps[g])))]
        seen.add(g)
        while stack:
            node, it = stack[-1]
            nxt = next((d for d in it if d not in seen), None)
            if nxt is None:
                stack.pop()
                done.append(node)
            else:
                seen.add(nxt)
                stack.append((nxt, iter(sorted(deps[nxt]))))

    for g in groups:
        if g not in seen:
            visit(g)
    return done
