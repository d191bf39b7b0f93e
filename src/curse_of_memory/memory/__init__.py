"""Memory functions and their decay: of teachers, randomly initialised models, trained
sentiment and digits models (an LSTM's asymptotic rate from its fixed points), and a phase
portrait (IAT Figures 5, 6, 9-11). Imports rnn and shared.
"""

__all__ = [
    "classification",
    "decay",
    "fixed_point",
    "phase_portrait",
    "random_models",
    "sentiment",
    "sequential_digits",
    "ssm",
]
