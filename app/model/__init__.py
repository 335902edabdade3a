"""SimpleConvNet, its data, training, evaluation and weight files."""
