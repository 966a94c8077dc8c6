"""The ground floor: settings, errors and text primitives every stage shares.

It imports nothing of ours."""
