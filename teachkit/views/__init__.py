"""The views layer: pictures drawn from a Recording, never from a cluster."""
