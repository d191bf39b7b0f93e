"""Memory functions and their decay: of teachers, randomly initialised models, trained
sentiment and digits models, and a phase portrait (IAT Figures 5, 6, 9-11). Imports rnn and shared.
"""

__all__ = [
    "classification",
    "decay",
    "phase_portrait",
    "random_models",
    "sentiment",
    "sequential_digits",
    "ssm",
]
