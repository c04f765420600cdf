"""Long-lived child processes that run TensorFlow for the window (no Qt here).

panel_helper: augmentation previews and one-image predictions for the panels; its
protocol is documented in docs/helper-protocol.md and in the module's docstring.
"""
