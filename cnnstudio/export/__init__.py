"""Exports: SavedModel, .keras, TFLite, ONNX (exporter.py) and Python source (python_source.py)."""
