"""PersonaPulse: customer personas from real behaviour, kept current as data arrives.

The engine (this package) knows nothing of HTTP; ``webhooks`` is a thin Flask face over it.
"""

__version__ = "0.1.0"
