"""What the students learn: memory kernels, input processes and data splits, teachers (linear
functionals, random RNNs, transformers). Imports shared only.
"""

__all__ = ["datasets", "kernels", "teachers"]
