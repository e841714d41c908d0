"""avtbench: a plugin-based benchmark toolkit for cross-modal generalization across audio, visual and text."""

__version__ = "0.1.0"
