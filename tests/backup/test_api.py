"""Backups API over real HTTP: anonymous 401, everyone but admins 403; admins list, back up now, verify, set the policy.

Archives go to the test's own directory (the `settings` fixture's backup_dir), made by the real jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from custinfo.auth.models import User
from custinfo.config import Settings
from custinfo.jobs import runner

API = "/api/v1"
Headers = Callable[[str], dict[str, str]]
ENDPOINTS = [
    ("get", "/backups"),
    ("post", "/backups"),
    ("get", "/backups/policy"),
    ("put", "/backups/policy"),
    ("post", "/backups/custinfo-20260701T013000Z-daily.cibackup/verify"),
]
POLICY = {"keep_daily": 10, "keep_weekly": 5, "keep_monthly": 24, "run_at": "03:15", "reason": "磁盘扩容"}


def test_anonymous_is_401(client: TestClient) -> None:
    for method, path in ENDPOINTS:
        response = client.request(method, API + path, json=POLICY if method == "put" else None)
        assert response.status_code == 401, (method, path)


def test_only_admins_manage_backups(client: TestClient, token: Headers, world: dict[str, User]) -> None:
    for user in ("steward", "auditor", "head_east", "sales_east1", "service1", "marketing"):
        for method, path in ENDPOINTS:
            response = client.request(
                method, API + path, headers=token(user), json=POLICY if method == "put" else None
            )
            assert response.status_code == 403, (user, method, path)
            assert response.json()["status"] == 403


def test_admin_backs_up_now_and_lists_it_verified(
    client: TestClient, token: Headers, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    admin = token("admin")
    assert client.get(f"{API}/backups", headers=admin).json() == []
    queued = client.post(f"{API}/backups", headers=admin, json={"kind": "weekly"})
    assert queued.status_code == 202, queued.text
    run = queued.json()
    assert (
        run["name"] == "backup"
        and run["status"] == "queued"
        and run["params"] == {"kind": "weekly", "verify": True}
    )
    [done] = runner.run_queued(session_factory)
    assert done.status == "succeeded", done.error
    assert client.get(f"{API}/jobs/runs/{run['id']}", headers=admin).json()["link"] == "/backups"
    [listed] = client.get(f"{API}/backups", headers=admin).json()
    assert listed["kind"] == "weekly" and listed["status"] == "passed" and listed["failure"] is None
    assert listed["size_bytes"] > 0 and listed["verified_at"] and listed["made_by"] == "admin"
    assert (settings.effective_backup_dir / listed["file_name"]).is_file()

    verify = client.post(f"{API}/backups/{listed['file_name']}/verify", headers=admin)
    assert verify.status_code == 202 and verify.json()["name"] == "backup-verify"
    assert verify.json()["params"] == {"file_name": listed["file_name"]}
    [checked] = runner.run_queued(session_factory)
    assert checked.status == "succeeded" and checked.result == {
        "file_name": listed["file_name"],
        "verified": True,
    }


def test_a_damaged_archive_fails_verification_with_the_reason_in_words(
    client: TestClient, token: Headers, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    admin = token("admin")
    client.post(f"{API}/backups", headers=admin, json={"kind": "daily", "verify": False})
    runner.run_queued(session_factory)
    [listed] = client.get(f"{API}/backups", headers=admin).json()
    assert listed["status"] == "never" and listed["verified_at"] is None
    path: Path = settings.effective_backup_dir / listed["file_name"]
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF
    path.write_bytes(bytes(data))
    client.post(f"{API}/backups/{listed['file_name']}/verify", headers=admin)
    runner.run_queued(session_factory)
    [zh] = client.get(f"{API}/backups", headers=admin).json()
    assert zh["status"] == "failed" and "损坏" in zh["failure"], zh
    [en] = client.get(f"{API}/backups", headers={**admin, "Accept-Language": "en"}).json()
    assert en["status"] == "failed" and "damaged" in en["failure"].lower(), en


def test_back_up_now_once_per_idempotency_key(client: TestClient, token: Headers) -> None:
    headers = {**token("admin"), "Idempotency-Key": "backup-now-2026-07-01"}
    first = client.post(f"{API}/backups", headers=headers, json={"kind": "monthly"})
    again = client.post(f"{API}/backups", headers=headers, json={"kind": "monthly"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    runs = client.get(f"{API}/jobs/runs?name=backup", headers=token("admin")).json()
    assert runs["total"] == 1


def test_bad_requests_name_the_field(client: TestClient, token: Headers) -> None:
    admin = token("admin")
    bad_kind = client.post(f"{API}/backups", headers=admin, json={"kind": "hourly"})
    assert bad_kind.status_code == 422 and [e["field"] for e in bad_kind.json()["errors"]] == ["kind"]
    extra = client.post(f"{API}/backups", headers=admin, json={"kind": "daily", "when": "now"})
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "when"
    missing = client.post(f"{API}/backups/custinfo-20260701T013000Z-daily.cibackup/verify", headers=admin)
    assert missing.status_code == 404 and missing.json()["detail"]
    assert client.post(f"{API}/backups/..%2Fkeys.json/verify", headers=admin).status_code == 404
    assert client.post(f"{API}/backups/not-a-backup.txt/verify", headers=admin).status_code == 404


def test_admin_reads_and_changes_the_policy(client: TestClient, token: Headers) -> None:
    admin = token("admin")
    shipped = client.get(f"{API}/backups/policy", headers=admin).json()
    assert shipped == {
        "keep_daily": 7,
        "keep_weekly": 4,
        "keep_monthly": 12,
        "run_at": "01:30",
        "version": 0,
        "changed_by": None,
        "changed_at": None,
        "reason": "",
    }
    saved = client.put(f"{API}/backups/policy", headers=admin, json=POLICY)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 1 and body["changed_by"] == "admin" and body["changed_at"]
    assert (body["keep_daily"], body["keep_weekly"], body["keep_monthly"], body["run_at"]) == (
        10,
        5,
        24,
        "03:15",
    )
    assert body["reason"] == "磁盘扩容"
    jobs = client.get(f"{API}/jobs", headers=admin).json()
    assert next(j for j in jobs if j["name"] == "backup")["schedule_text"] == "每天 03:15"
    again = client.put(f"{API}/backups/policy", headers=admin, json={**POLICY, "keep_daily": 8})
    assert again.json()["version"] == 2


def test_a_bad_policy_is_422_naming_each_field_and_nothing_is_saved(
    client: TestClient, token: Headers
) -> None:
    admin = token("admin")
    bad = client.put(
        f"{API}/backups/policy",
        headers=admin,
        json={"keep_daily": 0, "keep_weekly": 4, "keep_monthly": 5000, "run_at": "25:00"},
    )
    assert bad.status_code == 422
    errors = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert set(errors) == {"keep_daily", "keep_monthly", "run_at"}
    assert errors["keep_daily"] == "每日备份保留份数: 应为 1 到 1000 之间的整数"
    assert "HH:MM" in errors["run_at"] and "每日备份时间" in errors["run_at"]
    english = client.put(
        f"{API}/backups/policy",
        headers={**admin, "Accept-Language": "en"},
        json={"keep_daily": 3, "keep_weekly": 4, "keep_monthly": 5, "run_at": "1:30"},
    )
    assert english.json()["errors"] == [
        {
            "field": "run_at",
            "rule": "backup.run_at",
            "message": "Daily backup time: must be HH:MM on the 24-hour clock, e.g. 01:30",
        }
    ]
    not_a_number = client.put(f"{API}/backups/policy", headers=admin, json={**POLICY, "keep_weekly": "many"})
    assert not_a_number.status_code == 422 and not_a_number.json()["errors"][0]["field"] == "keep_weekly"
    missing = client.put(f"{API}/backups/policy", headers=admin, json={"keep_daily": 3})
    assert {e["field"] for e in missing.json()["errors"]} == {"keep_weekly", "keep_monthly", "run_at"}
    assert client.get(f"{API}/backups/policy", headers=admin).json()["version"] == 0
