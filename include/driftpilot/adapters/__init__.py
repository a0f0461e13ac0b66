"""One module per third-party library (pyarrow lake, SQLite store, MLflow, Evidently, GX,
scikit-learn, alert channels): the only place those libraries are imported."""
