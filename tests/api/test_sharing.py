"""Share links: opening one shows what a copy would hold and makes nothing; only the button
(a POST) copies; the owner replaces or stops the link; reset and time end it."""

from __future__ import annotations

from tests.api.conftest import Api, apply_ok, new_workspace

POD = """apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: c, image: busybox}]
"""
HTMX = {"HX-Request": "true"}


def shared_link(api: Api, workspace: str) -> str:
    made = api.post(f"/w/{workspace}/share", headers=HTMX)
    assert made.status_code == 200 and 'id="share-link"' in made.text
    return f"/s/{api.app.state.workspaces.current_share(workspace).token}"


def test_a_sandbox_has_no_link_until_its_owner_makes_one(api: Api) -> None:
    workspace = new_workspace(api)
    page = api.get(f"/w/{workspace}").text
    assert "Make a share link" in page and 'id="share-link"' not in page
    link = shared_link(api, workspace)
    page = api.get(f"/w/{workspace}").text
    assert f'href="{link}"' in page and "The link works until" in page
    assert shared_link(api, workspace) == link  # making it again keeps it


def test_opening_the_link_shows_the_copy_and_makes_nothing(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, POD)
    link = shared_link(api, workspace)
    store = api.app.state.workspaces
    made: list[str] = []
    insert = store.backend.insert
    store.backend.insert = lambda workspace_id, *rest: (
        made.append(workspace_id),
        insert(workspace_id, *rest),
    )[1]
    for _ in range(3):  # a link previewer, a prefetcher, the student
        preview = api.get(link)
        assert preview.status_code == 200
        assert "Make my copy" in preview.text and "default/client" in preview.text
        assert 'method="post"' in preview.text
        assert preview.headers["cache-control"] == "no-store"
    assert made == [], "opening a share link made a workspace"
    copied = api.post(link)
    assert copied.status_code == 303
    copy = copied.headers["location"].removeprefix("/w/")
    assert made == [copy] and copy != workspace
    assert api.get(f"/api/v1/workspaces/{copy}/objects/Pod/default/client").status_code == 200
    present = api.post(link, data={"present": "1"})
    assert present.headers["location"].endswith("?present=1")


def test_a_new_link_ends_the_old_one_and_stopping_ends_both(api: Api) -> None:
    workspace = new_workspace(api)
    old = shared_link(api, workspace)
    rotated = api.post(f"/w/{workspace}/share/rotate", headers=HTMX)
    assert rotated.status_code == 200
    new = f"/s/{api.app.state.workspaces.current_share(workspace).token}"
    assert new != old and f'href="{new}"' in rotated.text
    gone = api.get(old)
    assert gone.status_code == 404 and "turned off" in gone.text
    assert api.post(old).status_code == 404
    assert api.get(new).status_code == 200
    stopped = api.post(f"/w/{workspace}/share/revoke", headers=HTMX)
    assert "Make a share link" in stopped.text
    assert api.get(new).status_code == 404
    # Without htmx, each answer goes back to the sandbox page.
    back = api.post(f"/w/{workspace}/share")
    assert back.status_code == 303 and back.headers["location"] == f"/w/{workspace}"


def test_a_reset_ends_the_link(api: Api) -> None:
    workspace = new_workspace(api)
    link = shared_link(api, workspace)
    assert api.post(f"/w/{workspace}/reset").status_code == 303
    assert api.get(link).status_code == 404
    assert "Make a share link" in api.get(f"/w/{workspace}").text


def test_a_link_expires_after_share_days(api: Api) -> None:
    workspace = new_workspace(api)
    link = shared_link(api, workspace)
    store = api.app.state.workspaces
    made = store.clock()
    store.clock = lambda: made + 31 * 24 * 3600
    expired = api.get(link)
    assert expired.status_code == 404
    assert "expired on" in expired.text and "30 days after it was made" in expired.text
    assert api.post(link).status_code == 404


def test_the_sandbox_page_says_when_unused_sandboxes_go(api: Api) -> None:
    workspace = new_workspace(api)
    assert "Sandboxes unused for 30 days are deleted." in api.get(f"/w/{workspace}").text
