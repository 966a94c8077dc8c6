"""Question answering: hybrid retrieval, evidence gate, grounded generation, citations."""
