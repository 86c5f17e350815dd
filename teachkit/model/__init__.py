"""The model layer: a serialisable Recording and pure functions over it."""
