"""curse_of_memory: memory, stability and approximation of recurrent networks.

The package behind the workflow that reproduces the figures of
*Inverse Approximation Theory for Nonlinear RNNs* (Wang, Li, Li, ICLR 2024) and
*On the Curse of Memory in RNNs* (Li, Han, E, Li, ICLR 2021).
It takes arrays, modules and plain parameters; it never imports Snakemake.
"""

__version__ = "0.2.0"
