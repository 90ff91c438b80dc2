"""Validation evidence, monitoring, incidents and the model gate arrive with their issues."""
