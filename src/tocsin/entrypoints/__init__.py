"""Entrypoints: the REST API, the web pages and the CLI; they parse input, call the bus, render."""
