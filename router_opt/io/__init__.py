"""Reading inputs and writing outputs."""

from router_opt.io.loaders import detect_kind, load_catalog, load_policy, load_workload
from router_opt.io.writers import write_atomic

__all__ = ["detect_kind", "load_catalog", "load_policy", "load_workload", "write_atomic"]
