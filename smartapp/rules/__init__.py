"""The rules sheet: the policy tables as one HTML page a pharmacist can review."""
