"""The terminal: a pure interpreter of a learner's command lines (see :mod:`.interpreter`).

A command line goes in with the session (where the shell is: the learner's machine, a pod, a
node); text comes out, with a new session, and a trace when a command sent a request. Every
command is a function over the same cluster, network and render code as the tabs.
"""

from app.terminal.interpreter import Reply, changes_cluster, run
from app.terminal.session import Session

__all__ = ["Reply", "Session", "changes_cluster", "run"]
