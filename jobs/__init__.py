"""Scheduled jobs (APScheduler), one module per job."""
