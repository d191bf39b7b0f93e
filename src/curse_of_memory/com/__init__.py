"""The curse-of-memory studies (COM figures): optimisation dynamics and plateaus of linear RNNs,
Lorenz-96 data, exponential-sum approximation. Imports memory, rnn and shared.
"""

__all__ = ["approximation", "dynamics", "lorenz96", "plateaus", "training_curves"]
