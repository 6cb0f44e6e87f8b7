"""The store CRM: contract (openapi.yaml), client, errors and the built-in simulator."""

from wxmember.crm.client import CRMClient
from wxmember.crm.errors import CRMError, CRMProtocolError, CRMRejected, CRMUnavailable

__all__ = [
    "CRMClient",
    "CRMError",
    "CRMProtocolError",
    "CRMRejected",
    "CRMUnavailable",
    "connect_crm",
]

SIMULATOR = "simulator"


def connect_crm(config):
    """``(client, simulator)``; with ``crm.base_url: simulator`` one is started in-process."""
    crm = config["crm"]
    simulator = None
    base_url = crm["base_url"]
    if base_url == SIMULATOR:
        from wxmember.crm.simulator import SimulatorServer, create_simulator

        app = create_simulator(crm["simulator_members"], crm["api_key"])
        simulator = SimulatorServer(app).start()
        base_url = simulator.base_url
    client = CRMClient(base_url, crm["api_key"], crm["timeout_s"], crm["retries"])
    return client, simulator
