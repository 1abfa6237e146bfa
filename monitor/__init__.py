"""monitor: news monitoring and alerting that folds one event in any language into one story."""

__version__ = "0.1.0"
