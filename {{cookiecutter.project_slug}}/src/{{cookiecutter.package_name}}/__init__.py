"""Train a scikit-learn model from configuration and serve its predictions with Flask."""
