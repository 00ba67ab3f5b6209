"""Tocsin: self-hosted incident response from alert to post-mortem."""

__version__ = "0.1.0"
