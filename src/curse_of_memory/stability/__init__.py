"""Stability of approximation: perturbation of trained students, the curves E_m(beta), the
verdict and its claims, teacher filtering (IAT Figures 1-4, 7, 8, 12). Imports rnn and shared.
"""

__all__ = ["curves", "filtering", "perturbation", "verdict", "verdict_claims"]
