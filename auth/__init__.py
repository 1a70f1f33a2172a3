"""Web security: Flask-Login sessions, the login page, role guards for pages/callbacks/routes, headers."""
