"""The SMART on FHIR app and the `smartapp` command (kept import-light: no Flask at import)."""
