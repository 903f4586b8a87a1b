"""Serve a synthetic site (bench/sitegen.py) on 127.0.0.1, fast enough not to be what a crawl waits for.

Run as its own process, so the crawler and the server never share one GIL::

    python bench/server.py --size 10k [--seed 7] [--prerender auto|all|none]

It prints one JSON line once listening: the three base URLs (``ace``, ``coursera_api``,
``coursera_site``, as fixtures.server names them) and the organization GUIDs to start an ACE
crawl from. It stops on SIGTERM/SIGINT or when its standard input closes.

Pages are the fixture renderers' output (fixtures/site.py) padded to realistic weights. With
``--prerender all`` (the default up to 20k records) every exhibit and program page is rendered
once at start into bytes in memory and only padded (bytes joins) when served; above that, pages
are rendered on request (0.3-0.6 ms each). The server measures its own cost: ``GET /__stats``
answers the requests served and the CPU seconds this process used, so a benchmark can report the
server's CPU per page next to the crawl's rate.

A minimal HTTP/1.1 server on asyncio (keep-alive, GET/HEAD, no request bodies): a
ThreadingHTTPServer spends more per request than a crawl on two cores can afford.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sitegen  # noqa: E402
from fixtures import api, site  # noqa: E402

HOST = "127.0.0.1"
HTML = b"text/html; charset=utf-8"
JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"
REASONS = {200: b"OK", 404: b"Not Found", 405: b"Method Not Allowed", 400: b"Bad Request"}
PRERENDER_AUTO_MAX = 20_000


class Site:
    """Routing and (pre-)rendering for one synthetic site."""

    def __init__(self, generated: sitegen.SyntheticSite, prerender: str):
        self.s = generated
        self.padding = sitegen.Padding(generated.seed)
        self.ace_head = self.padding.ace_head.encode()
        self.ace_validation = [v.encode() for v in self.padding.ace_validation]
        self.reviews = [r.encode() for r in self.padding.reviews]
        self.apollo = [a.encode() for a in self.padding.apollo]
        self.exhibits = {e["cid"]: e for e in generated.exhibits}
        self.orgs = {o["oid"]: o for o in generated.organizations}
        self.cache: dict[str, bytes] = {}
        self.api_cache: dict[tuple, bytes] = {}
        self.not_found_ace = site.render_ace_not_found("/").encode()
        self.not_found_coursera = site.render_coursera_not_found().encode()
        self.empty_exhibit = site.render_ace_empty_exhibit().encode()
        self.prerendered = prerender == "all" or (prerender == "auto" and generated.size <= PRERENDER_AUTO_MAX)
        t0 = time.perf_counter()
        if self.prerendered:
            for exhibit in generated.exhibits:
                self.cache["e" + exhibit["cid"]] = self._render_exhibit(exhibit)
            for program in generated.programs:
                self.cache["p" + program["slug"]] = self._render_program(program)
        self.prerender_seconds = time.perf_counter() - t0
        self.requests = {"ace": 0, "coursera_api": 0, "coursera_site": 0}

    # ------------------------------------------------------------------ rendering (unpadded, bytes)
    def _render_exhibit(self, exhibit: dict) -> bytes:
        return site.render_ace_exhibit(exhibit, self.orgs[exhibit["oid"]]).encode()

    def _render_program(self, program: dict) -> bytes:
        return site.render_coursera_program(program, self.s.partners_of(program)).encode()

    def exhibit_parts(self, exhibit: dict) -> list[bytes]:
        page = self.cache.get("e" + exhibit["cid"]) or self._render_exhibit(exhibit)
        i = sitegen._digest_int(exhibit["cid"]) % sitegen.POOL
        head = page.index(b"</head>")
        hidden = page.index(b'<div class="aspNetHidden">\n') + len(b'<div class="aspNetHidden">\n')
        return [page[:head], self.ace_head, page[head:hidden], self.ace_validation[i], page[hidden:]]

    def program_parts(self, program: dict) -> list[bytes]:
        page = self.cache.get("p" + program["slug"]) or self._render_program(program)
        i = sitegen._digest_int(program["id"]) % sitegen.POOL
        faq = page.index(b'<section id="faq"')
        body = page.rindex(b"</body>")
        return [page[:faq], self.reviews[i], page[faq:body], self.apollo[i], page[body:]]

    # ------------------------------------------------------------------ routes
    def route(self, role: str, target: str) -> tuple[int, bytes, list[bytes]]:
        split = urlsplit(target)
        if split.path == "/__stats":
            return 200, JSON, [json.dumps(self.stats()).encode()]
        self.requests[role] += 1
        if split.path == "/robots.txt":
            text = {
                "ace": site.ACE_ROBOTS_TXT,
                "coursera_api": site.COURSERA_API_ROBOTS_TXT,
                "coursera_site": site.COURSERA_ROBOTS_TXT,
            }[role]
            return 200, TEXT, [text.encode()]
        if role == "ace":
            return self.route_ace(split)
        if role == "coursera_api" or split.path.startswith("/api/"):
            return self.route_api(split, target)
        return self.route_site(split)

    def route_ace(self, split) -> tuple[int, bytes, list[bytes]]:
        path = unquote(split.path).lower()
        params = {k.lower(): v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if path == "/national-guide/pages/course.aspx":
            exhibit = self.exhibits.get(params.get("cid", "").strip("{}").lower())
            return (200, HTML, self.exhibit_parts(exhibit)) if exhibit else (200, HTML, [self.empty_exhibit])
        if path == "/national-guide/pages/organization.aspx":
            org = self.orgs.get(params.get("oid", "").strip("{}").lower())
            if org is None:
                return 200, HTML, [site.render_ace_organization_not_found(params.get("oid", "")).encode()]
            key = "o" + org["oid"]
            if key not in self.cache:
                self.cache[key] = sitegen.render_organization(self.s, org).encode()
            return 200, HTML, [self.cache[key]]
        return 404, HTML, [self.not_found_ace]

    def route_api(self, split, target: str) -> tuple[int, bytes, list[bytes]]:
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if split.path == "/api/onDemandSpecializations.v1" and "ids" not in params and "q" not in params:
            start, limit = int(params.get("start") or 0), min(int(params.get("limit") or 100), api.MAX_LIMIT)
            fields = tuple(f.strip() for f in params.get("fields", "").split(",") if f.strip())
            key = (start, limit, fields)
            if key not in self.api_cache:
                self.api_cache[key] = sitegen.api_page(self.s, start, limit, list(fields))
            return 200, JSON, [self.api_cache[key]]
        if split.path == "/api/partners.v1":
            status, payload = api.partners(self.s.partners, split.query)
            return status, JSON, [json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()]
        return 404, JSON, [b'{"errorCode":"NotFound","message":null,"details":null}']

    def route_site(self, split) -> tuple[int, bytes, list[bytes]]:
        prefix, _, slug = split.path.lstrip("/").partition("/")
        if prefix in ("professional-certificates", "specializations"):
            program = self.s.program_by_slug.get(slug)
            if program is not None and site.program_path(program) == split.path:
                return 200, HTML, self.program_parts(program)
        return 404, HTML, [self.not_found_coursera]

    def stats(self) -> dict:
        usage = os.times()
        return {
            "requests": dict(self.requests),
            "cpu_seconds": usage.user + usage.system,
            "prerendered": self.prerendered,
            "prerender_seconds": round(self.prerender_seconds, 2),
        }


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection (what Scrapy sends)."""

    def __init__(self, role: str, routes: Site):
        self.role, self.routes = role, routes
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            line, _, headers = head.partition(b"\r\n")
            try:
                method, target, _version = line.decode("latin-1").split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            if method not in ("GET", "HEAD"):
                status, ctype, parts = 405, TEXT, [b"method not allowed"]
            else:
                try:
                    status, ctype, parts = self.routes.route(self.role, target)
                except Exception as exc:  # a bench bug must be loud, not a hang
                    print(f"server error on {target}: {exc!r}", file=sys.stderr)
                    status, ctype, parts = 500, TEXT, [b"server error"]
            length = sum(len(p) for p in parts)
            close = b"connection: close" in headers.lower()
            header = b"HTTP/1.1 %d %s\r\nServer: bench\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
                status,
                REASONS.get(status, b"Error"),
                ctype,
                length,
                b"Connection: close\r\n" if close else b"",
            )
            self.transport.writelines([header] if method == "HEAD" else [header, *parts])
            if close:
                self.transport.close()
                return


async def serve(routes: Site, ports: dict[str, int], ready) -> None:
    loop = asyncio.get_running_loop()
    servers = {}
    for role in ("ace", "coursera_api", "coursera_site"):
        servers[role] = await loop.create_server(
            lambda role=role: HttpProtocol(role, routes), HOST, ports.get(role, 0), backlog=512, reuse_address=True
        )
    bound = {role: srv.sockets[0].getsockname()[1] for role, srv in servers.items()}
    ready(bound)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
    await stop.wait()
    for srv in servers.values():
        srv.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a synthetic acewatch benchmark site on 127.0.0.1.")
    parser.add_argument("--size", default="1k")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--prerender", choices=("auto", "all", "none"), default="auto")
    parser.add_argument("--port-base", type=int, default=None)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    generated = sitegen.generate(sitegen.parse_size(args.size), args.seed)
    routes = Site(generated, args.prerender)
    ports = (
        {}
        if args.port_base is None
        else {"ace": args.port_base, "coursera_api": args.port_base + 1, "coursera_site": args.port_base + 2}
    )

    def ready(bound: dict[str, int]) -> None:
        base = {role: f"http://{HOST}:{port}" for role, port in bound.items()}
        print(
            json.dumps(
                {
                    "ace": base["ace"],
                    "coursera_api": base["coursera_api"] + "/api/",
                    "coursera_site": base["coursera_site"],
                    "stats": base["ace"] + "/__stats",
                    "organizations": [o["oid"] for o in generated.organizations],
                    "exhibits": len(generated.exhibits),
                    "programs": len(generated.programs),
                    "prerendered": routes.prerendered,
                    "startup_seconds": round(time.perf_counter() - t0, 2),
                }
            ),
            flush=True,
        )

    asyncio.run(serve(routes, ports, ready))
    return 0


if __name__ == "__main__":
    sys.exit(main())
