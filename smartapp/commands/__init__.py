"""The `smartapp` command and its subcommands (evaluate, db, registry, keys)."""
