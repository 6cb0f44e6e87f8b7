"""Binding a WeChat user to a store card: SMS codes, rate limits, the CRM outbox, drift."""
