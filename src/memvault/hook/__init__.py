"""`memvault hook`: coding-agent hook events (Claude Code's JSON on stdin) recorded in memvault.

`event` reads an event into what is stored (pure, no Vault), `record` stores it through
`memvault.ownerview`, `spool` keeps events the store could not take, `run` is the process
(lean imports: it runs once per tool call), `settings` installs it in an agent's settings.
"""
