"""cnnscratch: every derivation of the 'CNNs from Scratch' site, in NumPy.

One module per concept, one function per equation; the pages cite the
functions and the docstrings cite the pages.
"""

from .printing import set_print_policy

__all__ = ["set_print_policy"]
__version__ = "0.1.0"
