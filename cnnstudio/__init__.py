"""CNN Studio: design, train, fine-tune and export convolutional networks."""

from __future__ import annotations

__version__ = "0.1.0"
