"""me5-eval: reproduce the evaluation of Multilingual E5 (arXiv 2402.05672) on any checkpoint."""

__version__ = "0.1.0"
