"""Web plumbing shared by the blueprints: security headers, CSRF, request ids, logging."""
