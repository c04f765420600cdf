"""Reusable widgets: forms generated from ParamSpecs."""
