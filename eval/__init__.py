"""Evaluation: gold sets, retrieval and answer metrics, reports."""
