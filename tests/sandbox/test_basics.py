"""Users, authentication, versions, routes, ids, sharing and error bodies."""

from __future__ import annotations

import httpx
import pytest
from notion_client import APIErrorCode, APIResponseError, Client

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import SandboxDatabase, make_notion_client, text

VERSION = {"Notion-Version": "2025-09-03"}


def raw(sandbox: SandboxServer, method: str, path: str, **kwargs: object) -> httpx.Response:
    with httpx.Client(base_url=sandbox.base_url) as http:
        return http.request(method, path, **kwargs)  # type: ignore[arg-type]


def auth(sandbox: SandboxServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.token}", **VERSION}


def test_users_me_is_the_integration_bot(notion: Client, sandbox: SandboxServer) -> None:
    me = notion.users.me()
    assert me["object"] == "user"
    assert me["type"] == "bot"
    assert me["name"] == "dsprogress sandbox"
    assert me["bot"]["owner"] == {"type": "workspace", "workspace": True}
    assert set(me["bot"]) == {"owner", "workspace_name", "workspace_id", "workspace_limits"}
    assert isinstance(me["request_id"], str)
    assert notion.users.retrieve(me["id"])["id"] == me["id"]


def test_users_list_has_the_learner_and_the_bot(notion: Client) -> None:
    users = notion.users.list()
    assert users["object"] == "list"
    assert users["type"] == "user"
    assert sorted(u["type"] for u in users["results"]) == ["bot", "person"]
    assert all("request_id" not in u for u in users["results"])


def test_bad_token_is_401_unauthorized(sandbox: SandboxServer) -> None:
    client = make_notion_client(sandbox, token="ntn_not_the_right_one")
    with pytest.raises(APIResponseError) as caught:
        client.users.me()
    assert caught.value.status == 401
    assert caught.value.code == APIErrorCode.Unauthorized
    assert str(caught.value) == "API token is invalid."


def test_missing_token_is_401(sandbox: SandboxServer) -> None:
    response = raw(sandbox, "GET", "/v1/users/me", headers=VERSION)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert body["code"] == "unauthorized"


def test_missing_notion_version_is_400_missing_version(sandbox: SandboxServer) -> None:
    response = raw(
        sandbox, "GET", "/v1/users/me", headers={"Authorization": f"Bearer {sandbox.token}"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "missing_version"
    assert "Notion-Version header should be defined" in response.json()["message"]


def test_other_notion_versions_are_refused(sandbox: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {sandbox.token}", "Notion-Version": "2022-06-28"}
    response = raw(sandbox, "GET", "/v1/users/me", headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "invalid"), ("POST", "users/me"), ("GET", "pages")]
)
def test_unknown_route_is_400_invalid_request_url(notion: Client, method: str, path: str) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.request(path=path, method=method)
    assert caught.value.status == 400
    assert caught.value.code == APIErrorCode.InvalidRequestURL
    assert str(caught.value) == "Invalid request URL."


@pytest.mark.parametrize("bad_id", ["12345678-1234-1234-1234-123456789abc", "not-a-uuid", "1234"])
def test_malformed_uuid_in_path_is_400(notion: Client, bad_id: str) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.pages.retrieve(bad_id)
    assert caught.value.code == APIErrorCode.ValidationError
    assert str(caught.value) == (
        f'path failed validation: path.page_id should be a valid uuid, instead was `"{bad_id}"`.'
    )


def test_path_param_name_follows_the_route(notion: Client) -> None:
    with pytest.raises(APIResponseError, match=r"path\.data_source_id should be a valid uuid"):
        notion.data_sources.retrieve("nope")
    with pytest.raises(APIResponseError, match=r"path\.database_id should be a valid uuid"):
        notion.databases.retrieve("nope")
    with pytest.raises(APIResponseError, match=r"path\.block_id should be a valid uuid"):
        notion.blocks.children.list("nope")


def test_ids_are_accepted_without_dashes(notion: Client, sandbox: SandboxServer) -> None:
    page = notion.pages.retrieve(sandbox.root_page_id.replace("-", ""))
    assert page["id"] == sandbox.root_page_id
    upper = notion.pages.retrieve(sandbox.root_page_id.upper())
    assert upper["id"] == sandbox.root_page_id


def test_unknown_object_is_404_with_notions_wording(notion: Client, sandbox: SandboxServer) -> None:
    nil = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(APIResponseError) as caught:
        notion.pages.retrieve(nil)
    error = caught.value
    assert error.status == 404
    assert error.code == APIErrorCode.ObjectNotFound
    assert str(error) == (
        f"Could not find page with ID: {nil}. Make sure the relevant pages and databases are "
        'shared with your integration "dsprogress sandbox".'
    )
    assert error.additional_data == {"integration_id": notion.users.me()["id"]}
    assert error.request_id


def test_unshared_page_exists_but_is_404(notion: Client, sandbox: SandboxServer) -> None:
    assert sandbox.control.page(sandbox.unshared_page_id)["id"] == sandbox.unshared_page_id
    with pytest.raises(APIResponseError) as caught:
        notion.pages.retrieve(sandbox.unshared_page_id)
    assert caught.value.status == 404
    assert "shared with your integration" in str(caught.value)
    with pytest.raises(APIResponseError) as creating:
        notion.pages.create(
            parent={"page_id": sandbox.unshared_page_id}, properties={"title": text("x")}
        )
    assert creating.value.status == 404
    with pytest.raises(APIResponseError) as database:
        notion.databases.create(
            parent={"type": "page_id", "page_id": sandbox.unshared_page_id}, title=text("x")
        )
    assert database.value.status == 404


def test_objects_under_the_root_page_inherit_sharing(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    child = notion.pages.create(
        parent={"page_id": sandbox.root_page_id}, properties={"title": text("Child")}
    )
    grandchild = notion.pages.create(
        parent={"page_id": child["id"]}, properties={"title": text("Grandchild")}
    )
    assert notion.pages.retrieve(grandchild["id"])["parent"] == {
        "type": "page_id",
        "page_id": child["id"],
    }
    assert notion.databases.retrieve(sandbox_db.database_id)["id"] == sandbox_db.database_id
    assert (
        notion.data_sources.retrieve(sandbox_db.data_source_id)["id"] == sandbox_db.data_source_id
    )


def test_invalid_json_body_is_400_invalid_json(sandbox: SandboxServer) -> None:
    response = raw(sandbox, "POST", "/v1/pages", headers=auth(sandbox), content=b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_non_object_body_is_a_validation_error(sandbox: SandboxServer) -> None:
    response = raw(sandbox, "POST", "/v1/search", headers=auth(sandbox), json=[1, 2])
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_request_ids_are_top_level_only(notion: Client, sandbox_db: SandboxDatabase) -> None:
    notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={"Name": {"title": text("a")}},
    )
    result = notion.data_sources.query(sandbox_db.data_source_id)
    assert isinstance(result["request_id"], str)
    assert result["results"]
    assert all("request_id" not in item for item in result["results"])
    assert (
        result["request_id"] != notion.data_sources.query(sandbox_db.data_source_id)["request_id"]
    )
