"""Loaders of control-plane configuration: P4 tutorial runtime JSON, YAML entries, value syntax."""
