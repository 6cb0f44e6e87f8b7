"""The WeChat official-account protocol: signatures, safe-mode crypto, messages, replies."""
