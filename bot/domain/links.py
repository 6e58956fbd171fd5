"""Music links: recognise the platforms a scene shares from, and reduce each to one canonical form.

``canonicalize_link`` returns the URL to store and show, plus a ``key`` that is equal for every
spelling of the same release (http/https, www or not, mobile hosts, storefront or language
prefixes, share and tracking parameters, trailing slashes). Links to other sites are kept as
given (a non-ASCII website name in its ASCII "xn--" form); their key is a conservative
normalisation. Anything that is not http(s) is refused, and so is anything that would make a
browser go somewhere other than the website the link seems to name.

A platform is named only on its own hosts (``site_name``): a Bandcamp release on an artist's own
domain keeps Bandcamp's key, so its spellings are one release, but the button names its domain.

Kept as one module (about 490 lines): the platform table and the rules that read it are one thing;
split, they would share the table's private shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import idna

from bot.domain.text import has_bidi_control, has_lone_surrogate

MAX_LINK_LENGTH = 512

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "si", "feature",
        "ref", "ref_src", "ref_url", "context", "nd", "pp", "ab_channel", "from", "source",
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
        "_branch_match_id", "_branch_referrer", "referral", "uo", "ls", "app", "dl_branch",
        "pt", "ct", "mt", "at", "itscg", "itsct", "u_code", "u_source", "trk", "play",
    }
)  # fmt: skip


class LinkError(ValueError):
    """The text is not a link we can accept; the message says why, for the member."""


@dataclass(frozen=True, slots=True)
class CanonicalLink:
    url: str
    key: str
    platform: str | None  # "bandcamp", "spotify", …; None for other sites (own domains too)
    kind: str | None  # "album", "track", "artist", "playlist", "video", …


def platform_name(platform: str | None) -> str:
    """``"bandcamp"`` → ``"Bandcamp"``; None or an unknown site → ``"the link"``."""
    return PLATFORM_NAMES.get(platform or "", "the link")


def site_name(url: str, limit: int = 64) -> str:
    """Where a link goes, as a button may say it: the platform's name on one of its own hosts,
    otherwise the host itself (``xn--`` form for non-ASCII names), at most ``limit`` characters.

    Read from the URL, never from a stored platform, so a link can't be named for a site it
    doesn't go to. A host too long to show keeps its end, the part that says whose it is."""
    try:  # browsers read a backslash in a web address as "/" (in links stored before it was refused)
        host = _ascii_host(urlsplit(url.replace("\\", "/")).hostname or "")
    except (ValueError, LinkError):
        return "the link"
    platform = platform_of_host(host.removeprefix("www."))
    if platform is not None:
        return platform_name(platform)
    return host if len(host) <= limit else "…" + host[-(limit - 1) :]


PLATFORM_NAMES = {
    "bandcamp": "Bandcamp",
    "spotify": "Spotify",
    "youtube": "YouTube",
    "soundcloud": "SoundCloud",
    "apple": "Apple Music",
    "tidal": "Tidal",
    "deezer": "Deezer",
    "mixcloud": "Mixcloud",
    "discogs": "Discogs",
    "musicbrainz": "MusicBrainz",
}

_SPOTIFY_URI = re.compile(
    r"^spotify:(?:user:[^:]+:)?(album|track|artist|playlist|episode|show):([A-Za-z0-9]{22})$", re.I
)
_SPOTIFY_ID = re.compile(r"^[A-Za-z0-9]{22}$")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_LIST = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"
_NUMERIC = re.compile(r"^\d+$")
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_BARE_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?(/|$)", re.I)
_ASCII_HOST = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_BANDCAMP_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # as Bandcamp makes them from titles
_SOUNDCLOUD_SECRET = re.compile(r"^s-[A-Za-z0-9]+$")  # a private link's token: case matters
# Sites with their own ``/album/<id>`` links, which must not be taken for Bandcamp on an
# artist's own domain.
_NOT_BANDCAMP = ("qobuz.com", "anghami.com", "allmusic.com", "yandex.ru", "yandex.com",
                 "amazon.com", "napster.com", "boomplay.com", "audiomack.com", "kkbox.com",
                 "jiosaavn.com", "pandora.com", "7digital.com", "genius.com")  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Parts:
    host: str  # lowercase ASCII, without "www." or port
    segments: list[str]  # non-empty path segments, as given
    query: list[tuple[str, str]]  # without tracking parameters


def canonicalize_link(text: str) -> CanonicalLink:
    raw = text.strip()
    if not raw:
        raise LinkError("The link is empty.")
    if len(raw) > MAX_LINK_LENGTH:
        raise LinkError(f"The link is too long (at most {MAX_LINK_LENGTH} characters).")
    if any(ch.isspace() or ord(ch) < 32 for ch in raw):
        raise LinkError("A link cannot contain spaces or control characters.")
    if has_lone_surrogate(raw):
        raise LinkError("The link contains a broken character: paste it again.")
    if has_bidi_control(raw):
        raise LinkError(
            "A link cannot contain invisible text-direction characters: they can disguise "
            "where it goes. Paste it again from your browser's address bar."
        )
    if "\\" in raw:
        raise LinkError("A link cannot contain a backslash: browsers read it as `/`.")

    uri = _SPOTIFY_URI.match(raw)
    if uri:
        kind, spotify_id = uri.group(1).lower(), uri.group(2)
        return _spotify(kind, spotify_id)

    if _BARE_HOST.match(raw):  # example.com/x, example.com:8080/x
        raw = "https://" + raw
    elif (scheme := _SCHEME.match(raw)) is None:
        raise LinkError("That doesn't look like a link: paste the whole address (https://…).")
    elif scheme.group(1).lower() not in ("http", "https"):
        raise LinkError(
            f"Only web links (http:// or https://) can be shared, not `{scheme.group(1).lower()}:`."
        )

    try:
        split = urlsplit(raw)
        written = (split.hostname or "").rstrip(".")
        split.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise LinkError("That link is malformed (check the address and any port number).") from exc
    if "@" in split.netloc:
        raise LinkError("A link cannot contain a user name or password (an `@` before the site).")
    if not written or "." not in written:
        raise LinkError("That link has no website in it.")
    host = _ascii_host(written)
    bare = host.removeprefix("www.")
    parts = _Parts(
        host=bare,
        segments=[_decoded(s) for s in split.path.split("/") if s],
        query=[(k, v) for k, v in parse_qsl(split.query) if k.lower() not in TRACKING_PARAMS],
    )
    return _within_limit(_recognise(raw, split, host, parts))


def _ascii_host(written: str) -> str:
    """The host a browser would go to, in ASCII: percent-escapes decoded and a non-ASCII name
    mapped and encoded as IDNA (UTS #46, as browsers do): bandcamp.com spelt with a Cyrillic a
    is ``xn--bndcamp-2fg.com``, never ``bandcamp.com``."""
    host = unquote(written).rstrip(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError is one
            raise LinkError("The website name in that link is not a valid domain name.") from exc
    host = host.lower()
    if not _ASCII_HOST.match(host):
        raise LinkError("The website name in that link is not a valid domain name.")
    return host


def _decoded(segment: str) -> str:
    """A path segment with its percent-escapes decoded, so ``%C3%BC`` and ``ü`` are one spelling
    (the URL is encoded again when it is rebuilt); an escaped ``/`` stays escaped."""
    decoded = unquote(segment)
    return segment if "/" in decoded else decoded


def _recognise(raw: str, split: SplitResult, host: str, parts: _Parts) -> CanonicalLink:
    for _platform, matches, handler in _PLATFORMS:
        if matches(parts.host):
            found = handler(parts)
            if found is not None:
                return _encoded(found)
    if _custom_bandcamp(parts):  # Bandcamp on an artist's own domain: not Bandcamp's host
        return _encoded(replace(_bandcamp_release(parts), platform=None))
    return _other(raw, split, host)


def _encoded(rebuilt: CanonicalLink) -> CanonicalLink:
    """Percent-encode a URL we rebuilt from decoded path pieces."""
    return replace(rebuilt, url=quote(rebuilt.url, safe=_URL_SAFE))


def platform_of_host(host: str) -> str | None:
    """``"kasproduct.bandcamp.com"`` → ``"bandcamp"``: the platform whose own host this is
    (lowercase ASCII, without ``www.``), or None."""
    return next((platform for platform, matches, _ in _PLATFORMS if matches(host)), None)


def _custom_bandcamp(p: _Parts) -> bool:
    """Whether a link on a site we don't know is a Bandcamp release on the artist's own domain:
    exactly ``/album/<slug>`` or ``/track/<slug>``, in Bandcamp's own lowercase spelling, with
    no query, on none of the stores that use the same paths. Anything else is kept as given."""
    registered = ".".join(p.host.split(".")[-2:])
    return (
        len(p.segments) == 2
        and p.segments[0] in ("album", "track")
        and bool(_BANDCAMP_SLUG.match(p.segments[1]))
        and not p.query
        and registered not in _NOT_BANDCAMP
        and not p.host.startswith(("music.amazon.", "music.yandex."))
    )


def _within_limit(link: CanonicalLink) -> CanonicalLink:
    """Re-check the length: the canonical form can be longer than what was typed (``https://``
    added, say)."""
    if len(link.url) > MAX_LINK_LENGTH:
        raise LinkError(f"The link is too long (at most {MAX_LINK_LENGTH} characters).")
    return link


# -- platforms ----------------------------------------------------------------------------------


def _spotify(kind: str, spotify_id: str) -> CanonicalLink:
    return CanonicalLink(
        f"https://open.spotify.com/{kind}/{spotify_id}",
        f"spotify:{kind}:{spotify_id}",
        "spotify",
        kind,
    )


def _spotify_url(p: _Parts) -> CanonicalLink | None:
    segments = [s for s in p.segments if not s.lower().startswith("intl-") and s.lower() != "embed"]
    if len(segments) >= 4 and segments[0].lower() == "user" and segments[2].lower() == "playlist":
        segments = segments[2:]  # legacy /user/<name>/playlist/<id>
    kinds = {"album", "track", "artist", "playlist", "episode", "show"}
    if len(segments) >= 2 and segments[0].lower() in kinds and _SPOTIFY_ID.match(segments[1]):
        return _spotify(segments[0].lower(), segments[1])
    return None


def _bandcamp_path(segments: list[str]) -> bool:
    return len(segments) >= 2 and segments[0].lower() in ("album", "track")


def _bandcamp_release(p: _Parts) -> CanonicalLink:
    kind, slug = p.segments[0].lower(), p.segments[1].lower()
    return CanonicalLink(
        f"https://{p.host}/{kind}/{slug}", f"bandcamp:{p.host}/{kind}/{slug}", "bandcamp", kind
    )


def _bandcamp(p: _Parts) -> CanonicalLink | None:
    if _bandcamp_path(p.segments):
        return _bandcamp_release(p)
    if p.host in ("bandcamp.com", "daily.bandcamp.com"):
        return None
    if not p.segments or p.segments[0].lower() in ("music", "releases"):
        return CanonicalLink(f"https://{p.host}/", f"bandcamp:{p.host}", "bandcamp", "artist")
    return None


def _youtube(p: _Parts) -> CanonicalLink | None:
    query = dict(p.query)
    video: str | None = None
    if p.host == "youtu.be" and p.segments:
        video = p.segments[0]
    elif p.segments and p.segments[0].lower() == "watch":
        video = query.get("v")
    elif len(p.segments) >= 2 and p.segments[0].lower() in ("shorts", "embed", "live", "v"):
        video = p.segments[1]
    if video is not None and _YOUTUBE_ID.match(video):
        return CanonicalLink(
            f"https://www.youtube.com/watch?v={video}", f"youtube:video:{video}", "youtube", "video"
        )
    playlist = query.get("list")
    if (
        p.segments
        and p.segments[0].lower() == "playlist"
        and playlist
        and _YOUTUBE_LIST.match(playlist)
    ):
        return CanonicalLink(
            f"https://www.youtube.com/playlist?list={playlist}",
            f"youtube:playlist:{playlist}",
            "youtube",
            "playlist",
        )
    if len(p.segments) >= 2 and p.segments[0].lower() == "browse" and p.host == "music.youtube.com":
        browse = p.segments[1]
        return CanonicalLink(
            f"https://music.youtube.com/browse/{browse}",
            f"youtube:browse:{browse}",
            "youtube",
            "album",
        )
    if p.segments and p.segments[0].startswith("@"):
        handle = p.segments[0].lower()
        return CanonicalLink(
            f"https://www.youtube.com/{handle}", f"youtube:{handle}", "youtube", "artist"
        )
    if len(p.segments) >= 2 and p.segments[0].lower() == "channel":
        channel = p.segments[1]
        return CanonicalLink(
            f"https://www.youtube.com/channel/{channel}",
            f"youtube:channel:{channel}",
            "youtube",
            "artist",
        )
    return None


def _soundcloud(p: _Parts) -> CanonicalLink | None:
    if p.host == "on.soundcloud.com":
        return None  # a short link: kept as given
    segments = [
        s if i >= 2 and _SOUNDCLOUD_SECRET.match(s) else s.lower() for i, s in enumerate(p.segments)
    ]
    if not segments or segments[0] in ("discover", "search", "you", "stream", "charts"):
        return None
    path = "/".join(segments[:4])
    kind = "artist" if len(segments) == 1 else "playlist" if "sets" in segments else "track"
    return CanonicalLink(f"https://soundcloud.com/{path}", f"soundcloud:{path}", "soundcloud", kind)


def _apple(p: _Parts) -> CanonicalLink | None:
    segments = list(p.segments)
    storefront = "us"
    if segments and re.fullmatch(r"[a-z]{2}", segments[0], re.I):
        storefront = segments.pop(0).lower()
    if len(segments) < 2:
        return None
    kind = segments[0].lower()
    if kind not in ("album", "song", "artist", "playlist", "music-video"):
        return None
    item_id = segments[-1]
    if item_id.startswith("id") and _NUMERIC.match(item_id[2:]):
        item_id = item_id[2:]  # itunes.apple.com/…/id123
    slug = "/".join(s.lower() for s in segments[1:-1])
    track = dict(p.query).get("i")
    if kind == "album" and track and _NUMERIC.match(track):
        url = f"https://music.apple.com/{storefront}/album/{slug + '/' if slug else ''}{item_id}?i={track}"
        return CanonicalLink(url, f"apple:song:{track}", "apple", "track")
    url = f"https://music.apple.com/{storefront}/{kind}/{slug + '/' if slug else ''}{item_id}"
    return CanonicalLink(
        url, f"apple:{kind}:{item_id}", "apple", "track" if kind == "song" else kind
    )


def _numbered(
    platform: str, kinds: tuple[str, ...], base: str, skip: Callable[[str], bool]
) -> Callable[[_Parts], CanonicalLink | None]:
    """Platforms whose links are ``…/<kind>/<id>`` after optional prefixes (language, browse)."""

    def handler(p: _Parts) -> CanonicalLink | None:
        segments = [s for s in p.segments if not skip(s.lower())]
        if len(segments) < 2 or segments[0].lower() not in kinds:
            return None
        kind, item_id = segments[0].lower(), segments[1]
        if kind == "playlist":
            item_id = item_id.lower()  # a UUID on Tidal, a number on Deezer
        elif not _NUMERIC.match(item_id):
            return None
        return CanonicalLink(
            f"{base}/{kind}/{item_id}", f"{platform}:{kind}:{item_id}", platform, kind
        )

    return handler


def _mixcloud(p: _Parts) -> CanonicalLink | None:
    segments = [s.lower() for s in p.segments]
    if not segments or segments[0] in ("discover", "search", "live", "upload", "select"):
        return None
    path = "/".join(segments[:2])
    kind = "mix" if len(segments) >= 2 else "artist"
    return CanonicalLink(f"https://www.mixcloud.com/{path}/", f"mixcloud:{path}", "mixcloud", kind)


def _discogs(p: _Parts) -> CanonicalLink | None:
    segments = [s.lower() for s in p.segments]
    for index, segment in enumerate(segments[:-1]):
        if segment in ("release", "master", "artist", "label"):
            number = segments[index + 1].split("-", 1)[0]
            if _NUMERIC.match(number):
                return CanonicalLink(
                    f"https://www.discogs.com/{segment}/{number}",
                    f"discogs:{segment}:{number}",
                    "discogs",
                    segment,
                )
    return None


def _musicbrainz(p: _Parts) -> CanonicalLink | None:
    segments = [s.lower() for s in p.segments]
    kinds = ("release", "release-group", "recording", "artist", "label", "work")
    if len(segments) >= 2 and segments[0] in kinds and _MBID.match(segments[1]):
        kind, mbid = segments[0], segments[1]
        return CanonicalLink(
            f"https://musicbrainz.org/{kind}/{mbid}",
            f"musicbrainz:{kind}:{mbid}",
            "musicbrainz",
            kind,
        )
    return None


def _other(raw: str, split: SplitResult, host: str) -> CanonicalLink:
    """Any other site: stored as given, but for a website name written in anything other than
    ASCII (``host`` then replaces it); keyed without scheme, www, fragment or tracking."""
    port = f":{split.port}" if split.port and split.port not in (80, 443) else ""
    query = sorted((k, v) for k, v in parse_qsl(split.query) if k.lower() not in TRACKING_PARAMS)
    bare = host.removeprefix("www.")
    key = "url:" + urlunsplit(("", bare + port, split.path.rstrip("/"), urlencode(query), ""))
    url = raw
    if not split.netloc.isascii() or "%" in split.netloc:
        rest = raw[len(f"{split.scheme}://{split.netloc}") :]
        url = f"{split.scheme}://{host}{'' if split.port is None else f':{split.port}'}{rest}"
    return CanonicalLink(url, key.replace("url://", "url:"), None, None)


def _host_is(*names: str) -> Callable[[str], bool]:
    return lambda host: host in names


# Each platform's own hosts (lowercase ASCII, without "www.") and how to read its links.
_PLATFORMS: list[tuple[str, Callable[[str], bool], Callable[[_Parts], CanonicalLink | None]]] = [
    ("spotify", _host_is("open.spotify.com", "play.spotify.com", "spotify.com"), _spotify_url),
    ("bandcamp", lambda h: h.endswith(".bandcamp.com") or h == "bandcamp.com", _bandcamp),
    (
        "youtube",
        _host_is(
            "youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be", "youtube-nocookie.com"
        ),
        _youtube,
    ),
    (
        "soundcloud",
        _host_is("soundcloud.com", "m.soundcloud.com", "on.soundcloud.com"),
        _soundcloud,
    ),
    (
        "apple",
        _host_is(
            "music.apple.com", "itunes.apple.com", "geo.music.apple.com", "embed.music.apple.com"
        ),
        _apple,
    ),
    (
        "tidal",
        _host_is("tidal.com", "listen.tidal.com", "embed.tidal.com"),
        _numbered(
            "tidal",
            ("album", "track", "artist", "playlist", "video"),
            "https://tidal.com/browse",
            lambda s: s == "browse",
        ),
    ),
    (
        "deezer",
        _host_is("deezer.com"),
        _numbered(
            "deezer",
            ("album", "track", "artist", "playlist"),
            "https://www.deezer.com",
            lambda s: bool(re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", s)),
        ),
    ),
    ("mixcloud", _host_is("mixcloud.com", "m.mixcloud.com"), _mixcloud),
    ("discogs", _host_is("discogs.com"), _discogs),
    ("musicbrainz", _host_is("musicbrainz.org", "beta.musicbrainz.org"), _musicbrainz),
]
