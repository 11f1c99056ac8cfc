"""Watchfloor: indicators-and-warnings alerting over news and RSS feeds."""

__version__ = "0.1.0"
