"""The path of a WeChat event: dispatch to its handler, the outcome, configured replies."""
