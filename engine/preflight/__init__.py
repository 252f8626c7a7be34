"""Preflight: the checklist `spotdesk check` prints and the engine runs before it lets orders out.

Modules: `settings` (the SPOTDESK_PREFLIGHT__* section), `report` (verdicts and their JSON),
`checks` (one function per line of the checklist), `standalone` (the command's run against the
exchange) and `in_engine` (the same checks inside a running engine, re-run on arm and
periodically). Only `settings` is imported by the configuration, so this package stays light.
"""
