"""The workflow's side: configuration and its validation, job start-up, the package files a
script imports. The top layer: it may import every other subpackage.
"""

__all__ = ["config", "jobs", "sources", "validation"]
