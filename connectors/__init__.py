"""Built-in connectors. Each folder is one connector, registered as a vm plugin."""
