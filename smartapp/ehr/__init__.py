"""The launch's EHR: fresh tokens, the patient's data read once, one evaluation per request."""
