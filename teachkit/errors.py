"""The kit's errors: one base class, and one sentence each saying what is wrong and what to do.

Every error teachkit raises on purpose derives from :class:`TeachkitError`, so a
notebook or a script can catch them all at once.  The message is written for a
learner: it names the value that was wrong and what to do instead.  Each class
also keeps the builtin base it had before the kit had a common base
(``ValueError`` or ``RuntimeError``), so older ``except ValueError:`` code still
catches it.  This module imports nothing, so every layer (record, model, views,
entry points) can use it.

=========================  ==================  ==============================================
error                      builtin base        raised when
=========================  ==================  ==============================================
:class:`ArgumentError`     ``ValueError``      a public function or CLI option got a value it
                                               cannot use
:class:`ClusterError`      ``RuntimeError``    a cluster cannot be started, reached or used
:class:`FaultError`        ``ValueError``      a fault cannot be injected as asked
:class:`RecordingStartError`  ``RuntimeError``  ``teachkit.record(...)`` cannot start
:class:`RecordingFileError`   ``ValueError``    a saved recording cannot be read or written
=========================  ==================  ==============================================
"""

from __future__ import annotations


class TeachkitError(Exception):
    """Base class of every error teachkit raises on purpose."""


class ArgumentError(TeachkitError, ValueError):
    """A public function got an argument it cannot use; the message names the value and what to pass."""


class ClusterError(TeachkitError, RuntimeError):
    """A cluster could not be started, reached or used; the message says what to do."""


class FaultError(TeachkitError, ValueError):
    """A fault cannot be injected as asked; the message says why and what to do."""


class RecordingStartError(TeachkitError, RuntimeError):
    """A recording cannot start (no cluster, a closed one, one already recording); the message says what to do."""


class RecordingFileError(TeachkitError, ValueError):
    """A recording cannot be read or written (missing, corrupt, malformed, foreign, too new, or an unwritable path).

    The message names the file (the path the user gave) and, for a malformed
    recording, the first bad event.
    """


class TeachkitWarning(UserWarning):
    """Something the kit did for you that you should know about (e.g. it put a file's events back in time order)."""
