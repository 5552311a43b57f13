"""Core layer: table schema, noise stream, task inference, errors, ONNX format constants.

Imports numpy and pandas only (no torch, scikit-learn, scipy or onnxruntime), and no other
ganaug layer.
"""
