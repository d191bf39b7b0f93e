"""Shared building blocks with no scientific content of their own: seeding, file formats and
identity records, small fits, position encodings, claim rows. Imports nothing else of the package.
"""

__all__ = ["claims", "encodings", "fits", "identity", "io", "seeding"]
