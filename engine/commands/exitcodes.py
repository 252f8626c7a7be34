"""The command line's exit codes, one per kind of ending a script may want to tell apart."""

from __future__ import annotations

from engine.service.api import Outcome

EXIT_OK = 0
EXIT_USAGE = 2  # malformed command line or input; nothing was sent
EXIT_REFUSED = 3  # refused by a risk or safety rule; nothing was sent
EXIT_UNAVAILABLE = 4  # the exchange rejected it or failed, or no engine answers
EXIT_UNKNOWN = 5  # sent, outcome not known yet; the engine settles it by query, never resends

EPILOG = """\
exit codes:
  0  ok
  2  usage: malformed command line or input; nothing was sent
  3  refused by a risk or safety rule (filters, halted, limits, a running engine); nothing sent
  4  venue error, or no engine answers (start one with: spotdesk engine start)
  5  outcome unknown: sent, and the engine will settle it by query (never by resending);
     check with: spotdesk status
"""

_BY_OUTCOME = {
    Outcome.OK: EXIT_OK,
    Outcome.USAGE: EXIT_USAGE,
    Outcome.REFUSED: EXIT_REFUSED,
    Outcome.VENUE: EXIT_UNAVAILABLE,
    Outcome.UNKNOWN: EXIT_UNKNOWN,
}


def exit_code_for(outcome: Outcome) -> int:
    """The exit code of a command that ended with `outcome`."""
    return _BY_OUTCOME[outcome]
