"""See inside a network: feature maps, filters, histograms over training, embeddings, saliency.

The TensorFlow work (probe, features, saliency, embedding, histograms) runs in the CLI, the
training worker or the GUI's inspection helper process; `results`, `render` and
`projection` are plain numpy that the GUI draws from. Importing this package loads nothing.
"""
