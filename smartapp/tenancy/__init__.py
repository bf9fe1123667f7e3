"""Tenancy: which EHR a record, a user or an administrator belongs to."""
