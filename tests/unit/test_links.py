"""Link canonicalisation: known platforms, other sites, refused schemes, and its invariants."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.links import (
    PLATFORM_NAMES,
    LinkError,
    canonicalize_link,
    platform_name,
    platform_of_host,
    site_name,
)
from bot.domain.text import BIDI_CONTROLS

SPOTIFY_ID = "4aawyAB9vmqN3uQ7FjRGTy"
VIDEO = "dQw4w9WgXcQ"
MBID = "0da9ddf9-9c5e-4b8a-9c8f-1b6d7c5e2a10"


@pytest.mark.parametrize(
    "given_url,url,key",
    [
        (
            "https://kasproduct.bandcamp.com/album/try-out?from=hp",
            "https://kasproduct.bandcamp.com/album/try-out",
            "bandcamp:kasproduct.bandcamp.com/album/try-out",
        ),
        (
            "HTTP://KasProduct.Bandcamp.com/track/Mind/",
            "https://kasproduct.bandcamp.com/track/mind",
            "bandcamp:kasproduct.bandcamp.com/track/mind",
        ),
        (
            "https://kasproduct.bandcamp.com/",
            "https://kasproduct.bandcamp.com/",
            "bandcamp:kasproduct.bandcamp.com",
        ),
        (
            "https://music.minimalwave.com/album/the-lost-tapes",
            "https://music.minimalwave.com/album/the-lost-tapes",
            "bandcamp:music.minimalwave.com/album/the-lost-tapes",
        ),
        (
            f"https://open.spotify.com/intl-de/album/{SPOTIFY_ID}?si=abc",
            f"https://open.spotify.com/album/{SPOTIFY_ID}",
            f"spotify:album:{SPOTIFY_ID}",
        ),
        (
            f"spotify:track:{SPOTIFY_ID}",
            f"https://open.spotify.com/track/{SPOTIFY_ID}",
            f"spotify:track:{SPOTIFY_ID}",
        ),
        (
            f"https://open.spotify.com/playlist/{SPOTIFY_ID}",
            f"https://open.spotify.com/playlist/{SPOTIFY_ID}",
            f"spotify:playlist:{SPOTIFY_ID}",
        ),
        (
            f"https://open.spotify.com/artist/{SPOTIFY_ID}",
            f"https://open.spotify.com/artist/{SPOTIFY_ID}",
            f"spotify:artist:{SPOTIFY_ID}",
        ),
        (
            f"https://m.youtube.com/watch?v={VIDEO}&feature=share",
            f"https://www.youtube.com/watch?v={VIDEO}",
            f"youtube:video:{VIDEO}",
        ),
        (
            f"https://youtu.be/{VIDEO}?si=x",
            f"https://www.youtube.com/watch?v={VIDEO}",
            f"youtube:video:{VIDEO}",
        ),
        (
            f"https://music.youtube.com/watch?v={VIDEO}&list=RDAMVM",
            f"https://www.youtube.com/watch?v={VIDEO}",
            f"youtube:video:{VIDEO}",
        ),
        (
            f"https://www.youtube.com/shorts/{VIDEO}",
            f"https://www.youtube.com/watch?v={VIDEO}",
            f"youtube:video:{VIDEO}",
        ),
        (
            "https://soundcloud.com/Artist/Track-Name?in=x/sets/y&si=1",
            "https://soundcloud.com/artist/track-name",
            "soundcloud:artist/track-name",
        ),
        (
            "https://music.apple.com/fr/album/loveless/1434890393",
            "https://music.apple.com/fr/album/loveless/1434890393",
            "apple:album:1434890393",
        ),
        (
            "https://music.apple.com/gb/album/loveless/1434890393?i=1434890398",
            "https://music.apple.com/gb/album/loveless/1434890393?i=1434890398",
            "apple:song:1434890398",
        ),
        (
            "https://listen.tidal.com/album/123456",
            "https://tidal.com/browse/album/123456",
            "tidal:album:123456",
        ),
        (
            "https://www.deezer.com/fr/album/302127",
            "https://www.deezer.com/album/302127",
            "deezer:album:302127",
        ),
        (
            "https://www.mixcloud.com/NTSRadio/some-show/",
            "https://www.mixcloud.com/ntsradio/some-show/",
            "mixcloud:ntsradio/some-show",
        ),
        (
            "https://www.discogs.com/release/123456-Kas-Product-Try-Out",
            "https://www.discogs.com/release/123456",
            "discogs:release:123456",
        ),
        (
            "https://www.discogs.com/Kas-Product-Try-Out/master/9999",
            "https://www.discogs.com/master/9999",
            "discogs:master:9999",
        ),
        (
            f"https://musicbrainz.org/release/{MBID.upper()}",
            f"https://musicbrainz.org/release/{MBID}",
            f"musicbrainz:release:{MBID}",
        ),
        (
            "https://example.com/blog/post?utm_source=x#part",
            "https://example.com/blog/post?utm_source=x#part",
            "url:example.com/blog/post",
        ),
        ("www.example.org/a", "https://www.example.org/a", "url:example.org/a"),
    ],
)
def test_canonical_forms(given_url: str, url: str, key: str) -> None:
    link = canonicalize_link(given_url)
    assert (link.url, link.key) == (url, key)


def test_apple_song_and_album_track_are_one_key() -> None:
    song = canonicalize_link("https://music.apple.com/us/song/soon/1434890398")
    track = canonicalize_link("https://music.apple.com/gb/album/loveless/1434890393?i=1434890398")
    assert song.key == track.key


@pytest.mark.parametrize("scheme", ["javascript", "data", "ftp", "file", "vbscript", "JavaScript"])
def test_other_schemes_are_refused(scheme: str) -> None:
    with pytest.raises(LinkError, match=f"not `{scheme.lower()}:`"):
        canonicalize_link(f"{scheme}:alert(1)")


@pytest.mark.parametrize(
    "text", ["", "   ", "not a link", "https://", "https://localhost/x", "x" * 600]
)
def test_non_links_are_refused(text: str) -> None:
    with pytest.raises(LinkError):
        canonicalize_link(text)


# -- invariants -----------------------------------------------------------------------------

ids22 = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=22,
    max_size=22,
)
slugs = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20).filter(
    lambda s: s.strip("-")
)
video_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=11,
    max_size=11,
)
numbers = st.integers(min_value=1, max_value=10**12).map(str)
tracking = st.lists(
    st.sampled_from(
        ["utm_source=x", "utm_medium=y", "si=abc", "fbclid=1", "feature=share", "ref=z"]
    ),
    max_size=3,
)


def spellings(
    base: str, extra_query: list[str], *, www: bool, upper_host: bool, slash: bool, http: bool
) -> str:
    scheme, rest = base.split("://", 1)
    host, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    if (
        www
        and not host.startswith(("www.", "m.", "music.", "open.", "listen."))
        and host.count(".") == 1
    ):
        host = "www." + host
    if upper_host:
        host = host.upper()
    if slash and not path.endswith("/"):
        path += "/"
    params = [q for q in query.split("&") if q] + extra_query
    return f"{'http' if http else scheme}://{host}/{path}" + (
        "?" + "&".join(params) if params else ""
    )


@st.composite
def platform_links(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["bandcamp", "spotify", "youtube", "deezer", "tidal", "discogs", "soundcloud"]
        )
    )
    if kind == "bandcamp":
        return f"https://{draw(slugs)}.bandcamp.com/{draw(st.sampled_from(['album', 'track']))}/{draw(slugs)}"
    if kind == "spotify":
        return f"https://open.spotify.com/{draw(st.sampled_from(['album', 'track', 'artist', 'playlist']))}/{draw(ids22)}"
    if kind == "youtube":
        return f"https://www.youtube.com/watch?v={draw(video_ids)}"
    if kind == "deezer":
        return f"https://www.deezer.com/album/{draw(numbers)}"
    if kind == "tidal":
        return f"https://tidal.com/browse/track/{draw(numbers)}"
    if kind == "discogs":
        return f"https://www.discogs.com/release/{draw(numbers)}"
    return f"https://soundcloud.com/{draw(slugs)}/{draw(slugs)}"


@given(platform_links())
def test_canonicalisation_is_idempotent(url: str) -> None:
    once = canonicalize_link(url)
    twice = canonicalize_link(once.url)
    assert (twice.url, twice.key) == (once.url, once.key)


@given(platform_links(), tracking, st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_no_two_spellings_of_one_link_give_two_keys(
    url: str, extra: list[str], www: bool, upper_host: bool, slash: bool, http: bool
) -> None:
    variant = spellings(url, extra, www=www, upper_host=upper_host, slash=slash, http=http)
    assert canonicalize_link(variant).key == canonicalize_link(url).key


@given(
    ids22,
    st.sampled_from(["album", "track"]),
    st.sampled_from(["", "intl-de/", "intl-pt/", "embed/"]),
)
def test_spotify_uri_and_url_forms_agree(spotify_id: str, kind: str, prefix: str) -> None:
    uri = canonicalize_link(f"spotify:{kind}:{spotify_id}")
    url = canonicalize_link(f"https://open.spotify.com/{prefix}{kind}/{spotify_id}?si=q")
    assert uri.key == url.key and uri.url == url.url


@given(video_ids)
def test_youtube_forms_agree(video: str) -> None:
    keys = {
        canonicalize_link(u).key
        for u in (
            f"https://youtu.be/{video}",
            f"https://www.youtube.com/watch?v={video}",
            f"https://music.youtube.com/watch?v={video}",
            f"https://m.youtube.com/shorts/{video}",
        )
    }
    assert keys == {f"youtube:video:{video}"}


@given(st.text(max_size=200))
def test_anything_either_canonicalises_to_http_or_is_refused_cleanly(text: str) -> None:
    try:
        link = canonicalize_link(text)
    except LinkError:
        return
    assert link.url.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    "text",
    [
        "https://[::1/x",
        "https://example.com:abc/x",
        "https://example.com:99999/x",
        "x.bandcamp.com/album/" + "a" * 498,
    ],
)
def test_malformed_or_too_long_after_canonicalising_is_refused(text: str) -> None:
    with pytest.raises(LinkError):
        canonicalize_link(text)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.jiosaavn.com/album/some-name/Kv3sdX8uGf0_",
        "https://open.qobuz.com/album/AbCdEf123",
        "https://open.qobuz.com/album/0060254779384",
        "https://music.yandex.ru/album/123",
        "https://www.allmusic.com/album/loveless-mw0000094617",
        "https://label.example/album/Mixed-Case",
        "https://label.example/album/the-lost-tapes?track=3",
    ],
)
def test_other_sites_with_album_paths_are_kept_as_given(url: str) -> None:
    link = canonicalize_link(url)
    assert (link.url, link.platform) == (url, None)


def test_soundcloud_private_links_keep_their_token() -> None:
    link = canonicalize_link("https://soundcloud.com/Artist/Demo/s-AbCdE?si=x")
    assert link.url == "https://soundcloud.com/artist/demo/s-AbCdE"
    assert canonicalize_link(link.url).key == link.key == "soundcloud:artist/demo/s-AbCdE"


def test_a_bare_address_with_a_port_is_a_link() -> None:
    assert canonicalize_link("example.com:8080/x").url == "https://example.com:8080/x"


@given(
    st.text(min_size=1, max_size=12).filter(lambda s: not set(s) & set("/?#%") and s.strip() == s)
)
def test_non_ascii_and_escaped_paths_canonicalise_to_one_key(slug: str) -> None:
    try:
        once = canonicalize_link(f"https://x.bandcamp.com/album/{slug}")
    except LinkError:
        return  # spaces, control characters …: refused, cleanly
    twice = canonicalize_link(once.url)
    assert (twice.url, twice.key) == (once.url, once.key)
    assert canonicalize_link(f"https://x.bandcamp.com/album/{quote(slug)}").key == once.key


def test_rebuilt_urls_are_percent_encoded() -> None:
    assert canonicalize_link('https://soundcloud.com/a"b/c').url == "https://soundcloud.com/a%22b/c"
    odd = canonicalize_link("https://youtube.com/playlist?list=PL%20x%22%3E")
    assert odd.platform is None and " " not in odd.url  # not a real playlist id: kept as given


# -- naming where a link goes ---------------------------------------------------------------

CYRILLIC_A = "\u0430"


@pytest.mark.parametrize(
    "given_url,url,name",
    [
        (
            f"https://b{CYRILLIC_A}ndcamp.com/album/x",
            "https://xn--bndcamp-2fg.com/album/x",
            "xn--bndcamp-2fg.com",
        ),
        (
            f"https://kasproduct.b{CYRILLIC_A}ndcamp.com/album/x",
            "https://kasproduct.xn--bndcamp-2fg.com/album/x",
            "kasproduct.xn--bndcamp-2fg.com",
        ),
        (
            "https://open.spotify.com.evil.com/album/x",
            "https://open.spotify.com.evil.com/album/x",
            "open.spotify.com.evil.com",
        ),
        (
            f"https://open.spotify.com.evil.com/album/{SPOTIFY_ID}",
            f"https://open.spotify.com.evil.com/album/{SPOTIFY_ID}",
            "open.spotify.com.evil.com",
        ),
        (
            "https://music.minimalwave.com/album/the-lost-tapes",
            "https://music.minimalwave.com/album/the-lost-tapes",
            "music.minimalwave.com",
        ),
        (
            "https://www.example.org/a",
            "https://www.example.org/a",
            "www.example.org",
        ),
        (
            "https://kasproduct.bandcamp.com/album/try-out",
            "https://kasproduct.bandcamp.com/album/try-out",
            "Bandcamp",
        ),
        # Full-width letters are how browsers read them: this really is bandcamp.com.
        (
            "https://\uff42\uff41\uff4e\uff44\uff43\uff41\uff4d\uff50.com/album/x",
            "https://bandcamp.com/album/x",
            "Bandcamp",
        ),
        ("https://on.soundcloud.com/AbCd", "https://on.soundcloud.com/AbCd", "SoundCloud"),
    ],
)
def test_a_platform_is_named_only_on_its_own_hosts(given_url: str, url: str, name: str) -> None:
    link = canonicalize_link(given_url)
    assert (link.url, site_name(link.url)) == (url, name)
    assert link.platform is None or platform_name(link.platform) == name


def test_an_artists_own_domain_keeps_bandcamps_key_but_not_its_name() -> None:
    link = canonicalize_link("HTTP://Music.MinimalWave.com/album/the-lost-tapes/")
    assert link.key == "bandcamp:music.minimalwave.com/album/the-lost-tapes"
    assert link.platform is None


def test_a_non_ascii_website_name_is_one_key_in_every_spelling() -> None:
    spellings = [
        "https://B\u00fccher.example/Liste?utm_source=x",
        "https://xn--bcher-kva.example/Liste",
        "https://b%C3%BCcher.example/Liste",
    ]
    links = [canonicalize_link(s) for s in spellings]
    assert {link.key for link in links} == {"url:xn--bcher-kva.example/Liste"}
    assert links[0].url == "https://xn--bcher-kva.example/Liste?utm_source=x"
    assert canonicalize_link("https://b\u00fccher.example:8080/x").url == (
        "https://xn--bcher-kva.example:8080/x"
    )


@pytest.mark.parametrize(
    "stored,name",
    [
        # Stored before this rule by the custom-domain path, percent-encoded and as "bandcamp".
        ("https://b%D0%B0ndcamp.com/album/x", "xn--bndcamp-2fg.com"),
        ("https://b\u00fccher.example/x", "xn--bcher-kva.example"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "YouTube"),
        ("https://open%2Espotify.com/album/x", "Spotify"),
        ("https://evil.example\\@open.spotify.com/x", "evil.example"),
        ("https://open.spotify.com@evil.example/x", "evil.example"),
        ("https://exa mple.com/", "the link"),
        ("not a link", "the link"),
    ],
)
def test_stored_links_are_named_from_their_host(stored: str, name: str) -> None:
    assert site_name(stored) == name


def test_a_host_too_long_to_show_keeps_its_end() -> None:
    host = "open.spotify.com." + "a" * 80 + ".evil.example"
    name = site_name(f"https://{host}/x", limit=40)
    assert len(name) == 40 and name.startswith("…") and name.endswith("aaaa.evil.example")


@pytest.mark.parametrize("control", sorted(BIDI_CONTROLS))
def test_text_direction_controls_are_refused_in_links(control: str) -> None:
    with pytest.raises(LinkError, match="invisible text-direction characters"):
        canonicalize_link(f"https://example.com/{control}moc.evil")


@pytest.mark.parametrize(
    "text,message",
    [
        ("https://example.com/\ud800", "broken character"),
        ("https://evil.example\\@open.spotify.com/x", "backslash"),
        ("https://open.spotify.com@evil.example/x", "user name or password"),
        ("https://user:pw@example.com/x", "user name or password"),
        ("https://i\u2764.example/x", "not a valid domain name"),
        ("https://exa%2Fmple.com/x", "not a valid domain name"),
    ],
)
def test_links_that_could_go_elsewhere_are_refused(text: str, message: str) -> None:
    with pytest.raises(LinkError, match=message):
        canonicalize_link(text)


@given(st.one_of(platform_links(), st.text(max_size=120)))
def test_a_link_is_named_for_a_platform_only_if_it_goes_to_that_platform(text: str) -> None:
    """A recognised release link is named for its platform; any other link is named for a
    platform only when its host is that platform's own (``MUSIC.YOUTUBE.COM`` with no video is
    not a recognised release, but it does go to YouTube)."""
    try:
        link = canonicalize_link(text)
    except LinkError:
        return
    host = link.url.split("/")[2]
    assert host.isascii()
    name = site_name(link.url)
    if link.platform is not None:
        assert name == platform_name(link.platform)
    elif name in PLATFORM_NAMES.values():
        owner = platform_of_host(host.lower().split(":")[0].removeprefix("www."))
        assert owner is not None and name == platform_name(owner)
