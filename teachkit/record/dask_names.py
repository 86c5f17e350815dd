"""Every Dask name teachkit reads outside the stage rule, in one table each.

Dask's stimulus ids, task-prefix names, log topics and dask-expr class names
are **not public API**: an upgrade may rename them.  Everything the recorder and
the model read by name is listed here, so such a rename shows up in one file
(and fails the tests on the shipped recordings).  The stage rule's own tables
(``teachkit/model/stage_names.py``) are to be folded in here.  Checked against
dask/distributed 2026.8.  This module imports nothing, so every layer can use it.

>>> cause_of("handle-worker-cleanup-1795494357.04"), cause_of("task-finished-1795494357.1")
('worker-lost', None)
>>> shuffle_id("shuffle-transfer-a7ea21|3"), shuffle_id("p2pshuffle-a7ea21|0"), shuffle_id("chunk-99|0")
('a7ea21', 'a7ea21', None)
"""

from __future__ import annotations

# -- the scheduler's stimulus ids ------------------------------------------------------------
#: Stimulus-id prefixes that say why a task changed state, and the cause teachkit calls it.
STIMULUS_CAUSES = (
    ("handle-worker-cleanup", "worker-lost"),
    ("remove-worker", "worker-lost"),
    ("nanny-close", "worker-lost"),  # a Nanny reports its worker process died (e.g. SIGKILL)
    ("reschedule", "rescheduled"),
    ("steal", "stolen"),
)
#: Words in ``remove_worker``'s stimulus id: the worker died, or was retired on purpose.
WORKER_LOST_WORDS = ("heartbeat", "stream", "handle-worker-cleanup", "nanny-close")
WORKER_RETIRED_WORDS = ("retire",)
#: Stimulus-id prefix of the client letting go of its futures (e.g. once ``compute()`` has the result).
CLIENT_RELEASES = "client-releases-keys"


_CAUSE_PREFIXES = tuple(prefix for prefix, _ in STIMULUS_CAUSES)


def cause_of(stimulus: str | None) -> str | None:
    """Map a scheduler stimulus id to a short cause name (``None`` if ordinary)."""
    if not stimulus or not stimulus.startswith(_CAUSE_PREFIXES):  # most stimuli: one call
        return None
    return next(cause for prefix, cause in STIMULUS_CAUSES if stimulus.startswith(prefix))


def removal_cause(stimulus: str) -> str:
    """Why a worker left the scheduler, from ``remove_worker``'s stimulus id: lost, retired or closed.

    >>> removal_cause("handle-worker-cleanup-1.5"), removal_cause("retire-workers-2"), removal_cause("x")
    ('lost', 'retired', 'closed')
    """
    if any(word in stimulus for word in WORKER_LOST_WORDS):
        return "lost"
    if any(word in stimulus for word in WORKER_RETIRED_WORDS):
        return "retired"
    return "closed"


# -- task prefixes --------------------------------------------------------------------------------
#: Prefixes of a P2P shuffle's own tasks (transfer, barrier, unpack), joins and rechunks included.
P2P_PREFIXES = ("shuffle-transfer", "shuffle-barrier", "p2pshuffle", "hash-join", "rechunk-transfer", "rechunk-p2p",
                "merge-transfer")
#: Key names of P2P tasks that end in the shuffle's id (``shuffle-transfer-<id>``): the longest first.
P2P_KEY_NAMES = ("hash-join-transfer", "shuffle-transfer", "shuffle-barrier", "rechunk-transfer", "merge-transfer",
                 "hashjoinp2p", "p2pshuffle", "rechunk-p2p")
#: P2P unpack tasks: each builds one output partition on the worker that received its rows.
P2P_UNPACK_PREFIXES = ("p2pshuffle", "hashjoinp2p", "rechunk-p2p")


def is_p2p_prefix(prefix: str) -> bool:
    """Whether a task prefix belongs to a P2P shuffle's own tasks (transfer, barrier, unpack)."""
    return prefix.startswith(P2P_PREFIXES)


def shuffle_id(key: str) -> str | None:
    """The P2P shuffle id in a P2P task's key (the one ``p2p`` events carry), else ``None``."""
    name = key.split("|", 1)[0]
    for prefix in P2P_KEY_NAMES:
        if name.startswith(prefix + "-") and len(name) > len(prefix) + 1:
            return name[len(prefix) + 1:]
    return None


# -- the scheduler's log topics and extensions ----------------------------------------------------
#: Work stealing is logged under this topic (``("confirm", key, state, victim, thief, stimulus)``).
STEALING_TOPIC = "stealing"
#: The scheduler extension that names spans (``distributed.span``).
SPANS_EXTENSION = "spans"
#: Where the worker's P2P shuffle run class lives (its ``send`` is wrapped to count bytes).
SHUFFLE_RUN = ("distributed.shuffle._core", "ShuffleRun")

# -- dask-expr, on the client -----------------------------------------------------------------------
#: Wrappers dask puts around the collections of one compute/persist call.
EXPR_WRAPPERS = ("FinalizeCompute", "_ExprSequence", "ExprSequence")
#: Expression classes that say nothing about what a job does (skipped when naming it).
EXPR_UNNAMED = frozenset({"FinalizeCompute", "FinalizeComputeDF", "Fused", "ArrowStringConversion", "Repartition"})
#: Calling functions that hold the collections (in a local named ``collections``) and name the action.
ACTION_FUNCTIONS = ("compute", "persist")
