"""Offline training pipeline: MNIST loading, model definitions, training, evaluation."""
