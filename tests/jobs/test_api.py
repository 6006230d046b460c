"""Jobs API over real HTTP: anonymous 401, non-admin 403, admin works; 404 unknown job, 422 bad params."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from custinfo.jobs import runner

API = "/api/v1"


def test_anonymous_is_401(client: TestClient) -> None:
    for path in ("/jobs", "/jobs/runs", "/jobs/runs/1"):
        assert client.get(API + path).status_code == 401, path
    assert client.post(f"{API}/jobs/classify/runs").status_code == 401


def test_only_admins_manage_jobs(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    for user in ("steward", "auditor", "head_east", "sales_east1"):
        headers = login(user)
        assert client.get(f"{API}/jobs", headers=headers).status_code == 403, user
        assert client.get(f"{API}/jobs/runs", headers=headers).status_code == 403, user
        refused = client.post(f"{API}/jobs/classify/runs", headers=headers)
        assert refused.status_code == 403 and refused.json()["status"] == 403, user


def test_admin_enqueues_follows_and_lists(  # type: ignore[no-untyped-def]
    client: TestClient, login, session_factory: sessionmaker[Session]
) -> None:
    admin = login("admin")
    [job] = [j for j in client.get(f"{API}/jobs", headers=admin).json() if j["name"] == "classify"]
    assert job["schedule"] == "0 2 * * *" and job["schedule_text"] == "每天 02:00"
    assert job["next_run_at"] and job["last_run"] is None
    queued = client.post(f"{API}/jobs/classify/runs", headers=admin, json={"params": {"as_of": "2026-06-30"}})
    assert queued.status_code == 202, queued.text
    body = queued.json()
    assert (
        body["status"] == "queued"
        and body["requested_by"] == "admin"
        and body["params"]["as_of"] == "2026-06-30"
    )
    runner.run_queued(session_factory)
    done = client.get(f"{API}/jobs/runs/{body['id']}", headers=admin).json()
    assert (
        done["status"] == "succeeded" and done["result"]["customers"] >= 0 and done["duration_ms"] is not None
    )
    assert done["progress"] == {"done": 1, "total": 1, "note": "jobs.note.done"}
    assert done["link"] == f"/classification/runs/{done['result']['classification_run']}"
    [job] = [j for j in client.get(f"{API}/jobs", headers=admin).json() if j["name"] == "classify"]
    assert job["last_run"]["id"] == body["id"]
    client.post(f"{API}/jobs/classify/runs", headers=admin)
    page = client.get(f"{API}/jobs/runs?name=classify&size=1", headers=admin).json()
    assert page["total"] == 2 and page["size"] == 1 and page["items"][0]["status"] == "queued"
    second = client.get(f"{API}/jobs/runs?name=classify&size=1&page=2", headers=admin).json()
    assert second["items"][0]["id"] == body["id"]


def test_errors_are_problem_details(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    unknown = client.post(f"{API}/jobs/nope/runs", headers=admin)
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    assert client.get(f"{API}/jobs/runs?name=nope", headers=admin).status_code == 404
    assert client.get(f"{API}/jobs/runs/999999", headers=admin).status_code == 404
    bad = client.post(f"{API}/jobs/classify/runs", headers=admin, json={"params": {"as_of": "30.06.2026"}})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["as_of"] and "评估日期" in bad.json()["errors"][0][
        "message"
    ]
    extra = client.post(f"{API}/jobs/classify/runs", headers=admin, json={"params": {"customers": 5}})
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "customers"
    assert client.get(f"{API}/jobs/runs?size=0", headers=admin).status_code == 422


def test_the_requester_may_follow_their_own_run(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    queued = client.post(f"{API}/classification/runs", headers=login("steward"))
    assert queued.status_code == 202
    run_id = queued.json()["id"]
    assert client.get(f"{API}/jobs/runs/{run_id}", headers=login("steward")).status_code == 200
    assert client.get(f"{API}/jobs/runs/{run_id}", headers=login("auditor")).status_code == 404
    assert client.get(f"{API}/jobs/runs/{run_id}", headers=login("admin")).status_code == 200
