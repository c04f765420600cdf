"""CNN Studio: design, train, fine-tune and export convolutional networks."""

from __future__ import annotations

__version__ = "0.1.0"

import sys as _sys

if "keras" in _sys.modules:
    # A script that already uses Keras gets CNN Studio's layers registered, so
    # `import keras, cnnstudio; keras.saving.load_model("model.keras")` works with safe_mode on.
    # Without Keras loaded (the GUI, the pure core) nothing heavy is imported.
    import cnnstudio.modeling  # noqa: E402,F401
