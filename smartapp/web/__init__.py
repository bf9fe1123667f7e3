"""The web layer's plumbing and entry pages: launch, health, assets, session and handle,
CSRF, security headers, error pages, request logs, findings as pages list them."""
