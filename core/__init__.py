"""The ground floor: settings, errors and text primitives every stage shares; imports nothing of ours."""
