"""OncoQA entry points: settings, errors, model preparation, wiring and the command line."""
