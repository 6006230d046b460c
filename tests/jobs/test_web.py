"""The jobs pages over real HTTP: anonymous redirected, non-admins refused, admins see, run and follow jobs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.web.test_pages import csrf_of, sign_in

from custinfo.auth.models import User
from custinfo.jobs import runner


def signed_in(client: TestClient, username: str) -> TestClient:
    assert sign_in(client, username).status_code == 303
    return client


def test_anonymous_is_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/jobs", "/jobs/runs/1", "/jobs/runs/1/progress"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


def test_non_admins_get_no_jobs_page(client: TestClient, world: dict[str, User]) -> None:
    steward = signed_in(client, "steward")
    assert steward.get("/jobs").status_code == 403
    assert 'href="/jobs"' not in steward.get("/customers").text
    token = csrf_of(steward.get("/classification/runs").text)
    assert steward.post("/jobs/classify/runs", data={"csrf_token": token}).status_code == 403


def test_admin_runs_a_job_and_follows_it(
    client: TestClient, world: dict[str, User], session_factory: sessionmaker[Session]
) -> None:
    admin = signed_in(client, "admin")
    assert 'href="/jobs"' in admin.get("/customers").text  # navigation entry
    page = admin.get("/jobs").text
    assert "后台任务" in page and "全量分类" in page and "每天 02:00" in page and "从未运行" in page
    assert "立即运行" in page and "classify</" not in page  # names, not codes
    assert admin.post("/jobs/classify/runs", data={}).status_code == 403  # CSRF
    ran = admin.post("/jobs/classify/runs", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert ran.status_code == 303
    run_url = ran.headers["location"].split("?")[0]
    queued = admin.get(ran.headers["location"]).text
    assert "任务已排队" in queued and "排队中" in queued and f'hx-get="{run_url}/progress"' in queued
    fragment = admin.get(f"{run_url}/progress", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and 'hx-trigger="every 2s"' in fragment
    runner.run_queued(session_factory)
    done = admin.get(f"{run_url}/progress", headers={"HX-Request": "true"}).text
    assert "已完成" in done and "hx-trigger" not in done and "查看结果" in done
    assert re.search(r'href="/classification/runs/\d+"', done)
    listed = admin.get("/jobs").text
    assert "已完成" in listed and "客户数" in listed and run_url in listed
    assert "运行历史" in admin.get("/jobs?name=classify&page=1").text
    assert "Background jobs" in admin.get("/jobs?lang=en").text
    assert admin.get("/jobs/runs/999999").status_code == 404
    assert admin.post("/jobs/nope/runs", data={"csrf_token": csrf_of(page)}).status_code == 404
