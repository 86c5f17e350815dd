"""The record layer: thin scheduler/worker plugins that append plain events."""
