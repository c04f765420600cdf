"""Fine-tuning: start a new run from a trained model's weights on a new dataset."""
