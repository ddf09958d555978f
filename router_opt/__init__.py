"""router-opt: route each LLM task to the cheapest model that meets its quality bar, and show what
sending everything to one large model overspends."""

__version__ = "0.1.0"
