"""First end-to-end check that the app, fixtures and both dialects are wired."""

from fastapi.testclient import TestClient


def test_declare_and_read_back(api: TestClient) -> None:
    created = api.post(
        "/api/v1/incidents",
        json={"title": "Checkout down", "severity": "P2", "services": ["checkout"]},
    )
    assert created.status_code == 201, created.text
    ref = created.json()["reference"]
    got = api.get(f"/api/v1/incidents/{ref}")
    assert got.json()["title"] == "Checkout down"
    assert got.json()["services"] == [{"slug": "checkout", "name": "Checkout"}]
