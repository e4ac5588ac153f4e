"""bitfold's training side: binarized layers on Brevitas, the model zoo, datasets, training, export."""

import warnings

# Brevitas announces an optional CUDA kernel package at import; it is irrelevant on the CPU.
warnings.filterwarnings("ignore", message="fast_hadamard_transform package not found")
