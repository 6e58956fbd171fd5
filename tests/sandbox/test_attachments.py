"""Files in messages: served only at their keyed URL (``?hm=``, as Discord's CDN signs its
URLs), only on the emulator's own loopback address, with a type from the filename and headers
under which nothing in them runs; and still there after the try-out restarts on another port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from sandbox import Emulator
from sandbox.model import Message
from sandbox.page.messages import message_view
from sandbox.tryout import load_world, save_world

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
FILES = {  # filename: (bytes, what discord.py says it is)
    "week.png": (PNG, "application/octet-stream"),
    "export.csv": (b"artist,title\nPram,Sargasso Sea\n", "application/octet-stream"),
    "page.html": (b"<script>alert(1)</script>", "text/html"),
    "week #49 ?.txt": (b"a name a URL must escape", "application/octet-stream"),
}


async def post_files(emulator: Emulator, http: aiohttp.ClientSession) -> Message:
    """A message from the bot in #general carrying ``FILES``, as discord.py uploads them."""
    channel = emulator.world.guild.channel("general").id
    form = aiohttp.FormData(quote_fields=False)
    listed = [{"id": n, "filename": name} for n, name in enumerate(FILES)]
    form.add_field(
        "payload_json", json.dumps({"attachments": listed}), content_type="application/json"
    )
    for n, (name, (data, content_type)) in enumerate(FILES.items()):
        form.add_field(f"files[{n}]", data, filename=name, content_type=content_type)
    async with http.post(f"/api/v10/channels/{channel}/messages", data=form) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    return emulator.world.messages[int(body["id"])]


async def fetch(url: str | URL, **headers: str) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.read(), response.headers


def urls(message: Message) -> dict[str, URL]:
    return {a.filename: URL(a.url) for a in message.attachments}


async def test_files_are_served_with_their_type_and_headers_under_which_nothing_runs(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    served = urls(await post_files(emulator, http))
    status, body, headers = await fetch(served["week.png"])
    assert (status, body) == (200, PNG)
    assert headers["Content-Type"] == "image/png"  # from the name, not octet-stream
    assert headers["Content-Disposition"].startswith("inline;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy

    status, body, headers = await fetch(served["export.csv"])
    assert status == 200 and body.startswith(b"artist,title")
    assert headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"].startswith('attachment; filename="export.csv"')

    status, _, headers = await fetch(served["page.html"])
    assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in headers["Content-Security-Policy"]

    status, body, headers = await fetch(served["week #49 ?.txt"])
    assert (status, body) == (200, b"a name a URL must escape")
    assert headers["Content-Disposition"].endswith("filename*=UTF-8''week%20%2349%20%3F.txt")


async def test_a_file_is_served_only_at_its_own_keyed_url(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = urls(await post_files(emulator, http))["week.png"]
    key = url.query["hm"]
    assert len(key) >= 32
    assert (await fetch(url))[0] == 200
    guessed = [
        url.with_query(None),
        url.with_query(hm="0" * len(key)),
        url.with_query(hm=key[:-1]),
        url.with_path(url.path.replace("/week.png", "/other.png")).with_query(hm=key),
        url.with_path(url.path.replace(url.parts[2], "1", 1)).with_query(hm=key),
    ]
    for wrong in guessed:
        assert (await fetch(wrong))[0] == 404, wrong


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example"}, 403),
        ({"Host": "127.0.0.1:1"}, 403),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Host": "localhost:{port}"}, 200),
        ({"Origin": "http://127.0.0.1:{port}"}, 200),
    ],
)
async def test_files_are_served_only_on_the_emulators_own_address(
    emulator: Emulator, http: aiohttp.ClientSession, headers: dict[str, str], status: int
) -> None:
    url = urls(await post_files(emulator, http))["week.png"]
    sent = {name: value.format(port=emulator.port) for name, value in headers.items()}
    assert (await fetch(url, **sent))[0] == status


async def test_files_come_back_after_a_restart_on_another_port(
    emulator: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    message = await post_files(emulator, http)
    before = urls(message)
    saved = tmp_path / "sandbox.sqlite3.world"
    save_world(emulator.world, saved)
    world = load_world(saved)
    assert world is not None

    async with Emulator(world) as again:
        assert again.port != emulator.port
        restored = world.messages[message.id]
        after = urls(restored)
        for name, url in after.items():
            assert url.port == again.port and url.query == before[name].query  # same key
            assert url.path == before[name].path
        status, body, headers = await fetch(after["week.png"])
        assert (status, body, headers["Content-Type"]) == (200, PNG, "image/png")
        # The page shows the files at its own address, the picture as a picture.
        viewer = next(iter(world.guild.members))
        shown = {a["filename"]: a for a in message_view(again, restored, viewer)["attachments"]}
        assert shown["week.png"]["image"] and not shown["export.csv"]["image"]
        assert shown["week.png"]["url"] == f"{after['week.png'].path_qs}"
        status, body, _ = await fetch(again.base_url + shown["export.csv"]["url"])
        assert status == 200 and body.startswith(b"artist,title")
