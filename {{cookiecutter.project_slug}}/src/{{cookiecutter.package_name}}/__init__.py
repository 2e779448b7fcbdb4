"""Train a scikit-learn classifier and serve its predictions with Flask."""
