"""Server-rendered web pages (Jinja2 + htmx), sessions, CSRF and live updates."""
