"""Grad-CAM moved to cnnstudio.inspect.gradcam (one implementation beside the other saliency methods)."""

from __future__ import annotations

from cnnstudio.inspect.gradcam import colormap, explain, grad_cam, overlay

__all__ = ["colormap", "explain", "grad_cam", "overlay"]
