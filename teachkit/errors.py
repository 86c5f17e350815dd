"""The kit's errors: one base class, and one sentence each saying what is wrong and what to do.

Every error teachkit raises on purpose derives from :class:`TeachkitError`, so a
notebook or a script can catch them all at once.  The message is written for a
learner: it names the value that was wrong and what to do instead.  This module
imports nothing, so every layer (record, model, views, entry points) can use it.
"""

from __future__ import annotations


class TeachkitError(Exception):
    """Base class of every error teachkit raises on purpose."""


class ArgumentError(TeachkitError, ValueError):
    """A public function got an argument it cannot use; the message names the value and what to pass."""
