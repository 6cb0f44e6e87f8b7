"""The store CRM: contract (openapi.yaml), client, errors and the built-in simulator."""

from wxmember.crm.client import CRMClient, idempotency_key, once_more_if_lost
from wxmember.crm.errors import (
    CRMError,
    CRMProtocolError,
    CRMRejected,
    CRMUnavailable,
    outcome_unknown,
)

__all__ = [
    "CRMClient",
    "CRMError",
    "CRMProtocolError",
    "CRMRejected",
    "CRMUnavailable",
    "connect_crm",
    "idempotency_key",
    "once_more_if_lost",
    "outcome_unknown",
]

SIMULATOR = "simulator"


def connect_crm(config):
    """``(client, simulator)``; with ``crm.base_url: simulator`` one is started in-process."""
    crm = config["crm"]
    simulator = None
    base_url = crm["base_url"]
    if base_url == SIMULATOR:
        from wxmember.crm.simulator import create_simulator
        from wxmember.httpserver import BackgroundServer

        app = create_simulator(crm["simulator_members"], crm["api_key"])
        simulator = BackgroundServer(app).start()
        base_url = simulator.url
    client = CRMClient(base_url, crm["api_key"], crm["timeout_s"], crm["retries"])
    return client, simulator
