"""Graph <-> Keras. Imports TensorFlow/Keras: used in worker and helper processes.

Importing this package registers every CNN Studio Keras layer (LRN, L2 pooling, the
preprocessing and augmentation layers...), so `import cnnstudio.modeling` is all a script
needs before `keras.saving.load_model("model.keras")` with safe_mode on.
"""

from __future__ import annotations

from cnnstudio.modeling import augmentation, custom_layers, preprocessing  # noqa: F401  (registration)
