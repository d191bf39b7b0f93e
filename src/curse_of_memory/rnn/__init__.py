"""The students: residual RNNs (recurrence, models), their gradient training and least-squares
fits. Imports shared only.
"""

__all__ = ["least_squares", "models", "recurrence", "training"]
