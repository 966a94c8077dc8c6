"""The Gradio chat app."""
