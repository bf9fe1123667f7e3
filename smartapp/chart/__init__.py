"""The prescriber's page: its model (status, schedule, findings, trend) and its view."""
