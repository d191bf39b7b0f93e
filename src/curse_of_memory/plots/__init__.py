"""Figure helpers: axes, infinity rows, perturbation and memory panels. Imports the studies."""

__all__ = ["memory_plots", "plotting"]
