"""Framework integrations. Each module imports its framework only when it is used:
`import heron.integrations` never imports transformers, lightning or torch."""
