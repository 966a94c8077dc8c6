"""Performance benchmarks: ingestion, retrieval, answer latency, memory and concurrency."""
