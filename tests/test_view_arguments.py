"""The views' arguments, the way learners slip (issue 18): each gets one sentence naming the value, or the right
behaviour, never a raw TypeError/KeyError or a picture of nothing.

Every public view function and every drawing method of ``Job``, ``Recording`` and ``Stage`` is covered; no cluster
is needed (the shipped recordings).
"""

from __future__ import annotations

import math

import pytest

import teachkit
from teachkit.errors import ArgumentError, TeachkitError
from teachkit.model.frames import build_frames
from teachkit.views.cluster_view import cluster_view
from teachkit.views.dag import stage_dag
from teachkit.views.explain import explain
from teachkit.views.live import progress
from teachkit.views.player import Player, player_data
from teachkit.views.shuffle import shuffle_view
from teachkit.views.task_dag import task_dag
from teachkit.views.timeline import timeline

REC = teachkit.Recording.load(teachkit.example_path("groupby"))
OTHER = teachkit.Recording.load(teachkit.example_path("groupby"))  # the same file, loaded again: another recording
JOB = REC.job("groupby count")
NAN = float("nan")

BAD = [
    # cluster_view / rec.cluster_view
    ("cluster_view(at='now')", lambda: REC.cluster_view(at="now"), r"^at='now' is not a number: pass seconds since"),
    ("cluster_view(at=nan)", lambda: REC.cluster_view(at=NAN), r"^at=nan is not a finite number"),
    ("cluster_view(at=inf)", lambda: REC.cluster_view(at=math.inf), r"^at=inf is not a finite number"),
    ("cluster_view(at=-1e9)", lambda: REC.cluster_view(at=-1e9), r"^at=-1000000000.0 is before the recording started: "
                                                                 r"pass seconds since its start, from 0 to \d"),
    ("cluster_view(at=True)", lambda: REC.cluster_view(at=True), r"^at=True is not a number"),
    ("cluster_view(job=5)", lambda: REC.cluster_view(job=5), r"^There is no job 5: this recording has 1 job\(s\), "
                                                             r"numbered 0 to 0 .*'groupby count'"),
    ("cluster_view(job='x')", lambda: REC.cluster_view(job="x"), r"^There is no job named 'x'; the jobs are: "
                                                                 r"'groupby count'"),
    ("cluster_view(job=1.5)", lambda: REC.cluster_view(job=1.5), r"^job=1.5 is not a job: pass a job's number"),
    ("cluster_view(job={})", lambda: REC.cluster_view(job={}), r"^job=\{\} is not a job"),
    ("cluster_view(job of another rec)", lambda: REC.cluster_view(job=OTHER.jobs[0]),
     r"^The job 'groupby count' belongs to another recording: pass a job of this one"),
    ("cluster_view(None)", lambda: cluster_view(None), r"^cluster_view\(\) needs a recording, not None: pass the rec"),
    ("cluster_view('rec')", lambda: cluster_view("rec"), r"^cluster_view\(\) needs a recording, not 'rec'"),
    ("cluster_view({})", lambda: cluster_view({}), r"^cluster_view\(\) needs a recording, not a dict"),
    # task_dag
    ("task_dag(partitions=5)", lambda: JOB.task_dag(partitions=5), r"^partitions=5 is a number, not a list: pass the "
                                                                   r"partitions to draw, such as \[0, 1, 2\] or "
                                                                   r"range\(5\)\."),
    ("task_dag(partitions='0,1')", lambda: JOB.task_dag(partitions="0,1"), r"^partitions='0,1' is text, not a list"),
    ("task_dag(partitions=[1.5])", lambda: JOB.task_dag(partitions=[1.5]), r"^partitions= holds 1.5, which is not a "
                                                                           r"partition number"),
    ("task_dag(partitions=[-1])", lambda: JOB.task_dag(partitions=[-1]), r"holds -1, which is not a partition"),
    ("task_dag(partitions=[999])", lambda: JOB.task_dag(partitions=[999]), r"^partitions=\[999\] names no partition "
                                                                           r"of this job: its stages have partitions "
                                                                           r"0 to 15"),
    ("task_dag(color_by='colour')", lambda: JOB.task_dag(color_by="colour"), r"^color_by='colour' is not one of the "
                                                                             r"choices: pass 'stage' or 'worker'\."),
    ("task_dag(color_by=None)", lambda: JOB.task_dag(color_by=None), r"^color_by=None is not one of the choices"),
    ("task_dag(max_tasks_per_stage=0)", lambda: JOB.task_dag(max_tasks_per_stage=0),
     r"^max_tasks_per_stage=0 is not usable: pass a whole number from 1 to 400"),
    ("task_dag(sample='4')", lambda: JOB.task_dag(sample="4"), r"^sample='4' is not usable"),
    ("task_dag(more_width=-1)", lambda: JOB.task_dag(more_width=-1), r"^more_width=-1 is not usable"),
    ("task_dag(partitions={})", lambda: JOB.task_dag(partitions={}), r"^partitions=\{\} is a dict, not a list"),
    ("task_dag(None)", lambda: task_dag(None), r"^task_dag\(\) needs a job or a recording, not None: pass rec.job\(\)"),
    ("task_dag({})", lambda: task_dag({}), r"^task_dag\(\) needs a job or a recording, not a dict"),
    # stage_dag
    ("stage_dag('groupby count')", lambda: stage_dag("groupby count"), r"^stage_dag\(\) needs a job or a recording, "
                                                                       r"not 'groupby count'"),
    ("stage_dag(max_ops=0)", lambda: JOB.stage_dag(max_ops=0), r"^max_ops=0 is not usable: pass a whole number"),
    # timeline
    ("timeline(cursor='x')", lambda: JOB.timeline(cursor="x"), r"^cursor='x' is not a number: pass seconds since"),
    ("timeline(cursor=nan)", lambda: JOB.timeline(cursor=NAN), r"^cursor=nan is not a finite number"),
    ("timeline(cursor=99)", lambda: JOB.timeline(cursor=99), r"^cursor=99.0 is outside this job's timeline, which runs "
                                                             r"from 0.\d+ s to 0.\d+ s since the recording started"),
    ("timeline(width=0)", lambda: JOB.timeline(width=0), r"^width=0 is not usable: pass a whole number from 200"),
    ("timeline(width='wide')", lambda: JOB.timeline(width="wide"), r"^width='wide' is not usable"),
    ("timeline(transfers='no')", lambda: JOB.timeline(transfers="no"), r"^transfers='no' is not a yes/no value"),
    ("timeline(id_prefix='a b')", lambda: JOB.timeline(id_prefix="a b"), r"^id_prefix='a b' is not usable"),
    ("timeline(id_prefix='<x')", lambda: JOB.timeline(id_prefix="<x"), r"^id_prefix='<x' is not usable"),
    ("timeline(None)", lambda: timeline(None), r"^timeline\(\) needs a job or a recording, not None"),
    # shuffle view, explain
    ("shuffle_view(None)", lambda: shuffle_view(None), r"^shuffle_view\(\) needs a stage, not None: pass one of a "
                                                       r"job's stages"),
    ("shuffle_view(job)", lambda: shuffle_view(JOB), r"^shuffle_view\(\) needs a stage, not the job 'groupby count'"),
    ("explain(None)", lambda: explain(None), r"^explain\(\) needs a job or a recording, not None"),
    ("explain({})", lambda: explain({}), r"^explain\(\) needs a job or a recording, not a dict"),
    # the player, its data and frames
    ("Player(None)", lambda: Player(None), r"^the player needs a recording, not None"),
    ("Player('rec')", lambda: Player("rec"), r"^the player needs a recording, not 'rec'"),
    ("Player(rec, job=5)", lambda: Player(REC, job=5), r"^There is no job 5"),
    ("rec.play(job=True)", lambda: REC.play(job=True), r"^job=True is not a job"),
    ("rec.play('nope')", lambda: REC.play("nope"), r"^There is no job named 'nope'"),
    ("player_data(rec, other rec's job)", lambda: player_data(REC, OTHER.jobs[0]), r"belongs to another recording"),
    ("build_frames(rec, job=9)", lambda: build_frames(REC, 9), r"^There is no job 9"),
    ("rec.job([0])", lambda: REC.job([0]), r"^job=\[0\] is not a job"),
    # saving a picture or the player
    ("stage_dag().save(None)", lambda: JOB.stage_dag().save(None), r"^path=None is not a file path: pass a string or "
                                                                   r"a pathlib.Path such as 'dag.svg'\."),
    ("timeline().save(3)", lambda: JOB.timeline().save(3), r"^path=3 is not a file path"),
    ("play().save('')", lambda: REC.play().save(""), r"^path='' is not a file path"),
    # the model's own moment and the live view's counts
    ("job.state_at('now')", lambda: JOB.state_at("now"), r"^t='now' is not a number"),
    ("job.state_at(-1)", lambda: JOB.state_at(-1), r"^t=-1 is too small"),
    ("progress(rec, at='now')", lambda: progress(REC, at="now"), r"^at='now' is not a number"),
    ("progress(None)", lambda: progress(None), r"^progress\(\) needs a recording, not None"),
]


@pytest.mark.parametrize("label, call, sentence", BAD, ids=[row[0] for row in BAD])
def test_a_bad_view_argument_gets_one_sentence(label, call, sentence):
    with pytest.raises(ArgumentError, match=sentence) as info:
        call()
    message = str(info.value)
    assert isinstance(info.value, TeachkitError) and "\n" not in message and message.endswith((".", ")")), message


def test_a_job_found_by_name_number_or_object_is_drawn():
    """``job="groupby count"`` is looked up by name like rec.job does (it used to say the job had no tasks)."""
    by_name = REC.cluster_view(job="groupby count")
    assert by_name.info["job"] == 0 and sum(sum(c.values()) for c in by_name.info["counts"].values()) == 18
    assert REC.cluster_view(job=0).svg() == by_name.svg() == REC.cluster_view(job=JOB).svg()
    assert REC.cluster_view(job=-1).svg() == by_name.svg()
    assert JOB.recording is REC and cluster_view(JOB).svg() == by_name.svg()  # a job stands for its recording
    assert Player(JOB).num_steps == REC.play("groupby count").num_steps


def test_a_moment_past_the_end_draws_the_end_and_says_so():
    end = REC.cluster_view()
    late = REC.cluster_view(at=1e9)
    assert late.info["counts"] == end.info["counts"] and "(the recording ended at" in late.svg()
    assert "(the recording ended at" not in REC.cluster_view(at=REC.end).svg()


def test_a_player_step_past_the_end():
    player = REC.play()
    last = player.num_steps - 1
    assert player.caption(last) == player.data["frames"]["steps"][last]["caption"]
    for bad in (player.num_steps, -1, 2.5, "3", True):
        with pytest.raises(ArgumentError, match=rf"^n={bad!r} is not a step of this player: it has "
                                                rf"{player.num_steps} step\(s\), numbered 0 to {last}\."):
            player.caption(bad)
    with pytest.raises(ArgumentError, match=rf"^step={player.num_steps} is not a step of this player"):
        player.step = player.num_steps
    player.step = last
    assert player.caption() == player.data["frames"]["steps"][last]["caption"]


def test_partitions_take_any_collection_of_whole_numbers():
    for given in ([0, 1], (0, 1), {0, 1}, range(2), iter([0, 1])):
        assert set(JOB.task_dag(partitions=given).info["tasks"].values()) >= {(0, 0), (0, 1)}
