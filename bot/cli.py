"""The `newsbot` command line: run the bot, check and preview posts, import articles, back up,
and move the database between SQLite and PostgreSQL.

Every command turns bad input into one clear line on stderr and a non-zero exit; none of them
shows a traceback for a mistake in its input. A bad setting is exit 2, before anything starts.
Once `newsbot run` has set up logging, whatever stops the bot is a log line, secrets removed,
never a raw traceback on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pydantic import ValidationError

from bot import logs
from bot.backup import backup
from bot.errors import ArticleError, BackupError, CommandError, Unavailable
from bot.importer import ImportOptions, import_article
from bot.posts import Post, PostLibrary
from bot.preview_page import build_page
from bot.render import preview_record, render
from bot.settings import Settings
from bot.store import PostgresUrl, location, open_database, set_aside
from bot.store.transfer import copy_database

EXIT_REJECTED = 1
EXIT_FAILED = 1
EXIT_USAGE = 2

log = logging.getLogger("newsbot")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{_variable(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise CommandError(f"bad setting: {problems}") from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable an error is about (an error on a default has the field name)."""
    field = Settings.model_fields.get(str(loc[0])) if loc else None
    if field is not None and field.alias:
        return field.alias
    return ".".join(str(p) for p in loc)


def _library(path: Path | None, settings: Settings) -> PostLibrary:
    root = path or settings.content_dir
    if not root.exists():
        raise CommandError(f"content folder {root} does not exist")
    library = PostLibrary(root, site_url=settings.site_url)
    library.scan()
    return library


def _run(args: argparse.Namespace) -> int:
    settings = _settings()
    token = settings.require_token()
    logs.configure(settings.log_level, token, fmt=settings.log_format, secrets=settings.secrets)
    database = settings.database
    if args.new_database and isinstance(database, Path) and (kept := set_aside(database)):
        log.warning("database unusable, set aside; starting a new one kept=%s", kept)
    # python-telegram-bot 22 reports `retry_after` as a timedelta only when asked to.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    from telegram.error import InvalidToken  # the Telegram stack is only loaded for the bot

    from bot.app import serve

    try:
        asyncio.run(serve(settings))
    except Unavailable as exc:  # an empty, foreign or unreachable database: said in one line
        log.critical("newsbot cannot run error=%s", exc)
        return EXIT_FAILED
    except InvalidToken:
        log.critical("newsbot cannot run error=Telegram refused TELEGRAM_BOT_TOKEN")
        return EXIT_FAILED
    except OSError as exc:  # a port taken, a folder not writable: the reason is enough
        log.critical("newsbot cannot run error=%s", exc)
        return EXIT_FAILED
    except Exception:
        # Logged, not left to Python: its traceback would print the secrets the log filter hides.
        log.critical("newsbot stopped by an error", exc_info=True)
        return EXIT_FAILED
    return 0


def _check(args: argparse.Namespace) -> int:
    settings = _settings()
    root: Path = args.content or args.path or settings.content_dir
    library = _library(root, settings)
    for rejection in library.rejected:
        print(f"{rejection.path}: {rejection.reason}")
    warnings = [str(notice) for notice in library.warnings]
    if not library.posts and not library.rejected and _holds_files(root):
        warnings.append(_no_posts_hint(root))
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    loaded, rejected = len(library.posts), len(library.rejected)
    print(f"{loaded} posts loaded, {rejected} rejected, {len(warnings)} warnings", file=sys.stderr)
    return EXIT_REJECTED if rejected else 0


def _holds_files(root: Path) -> bool:
    """Whether there is any file at all under `root` (hidden ones aside)."""
    if root.is_file():
        return True
    for _, folders, files in os.walk(root):
        folders[:] = [name for name in folders if not name.startswith(".")]
        if any(not name.startswith(".") for name in files):
            return True
    return False


def _no_posts_hint(root: Path) -> str:
    """Why a folder with files may have no posts, and what to do about it."""
    nested = next((found for found in root.rglob("_posts") if found.is_dir()), None)
    if nested is not None:
        site = nested.parent
        return (
            f"{root}: 0 posts, although it holds files: {nested} looks like a Jekyll site's, "
            f"but {site} has no _config.yml; point newsbot at the site's root (the folder with "
            "_config.yml), or add one"
        )
    return (
        f"{root}: 0 posts, although it holds files: a post is a .md, .markdown or .html file "
        "starting with front matter (a '---' line); a Jekyll site is read from the folder "
        "that holds its _config.yml"
    )


def _preview(args: argparse.Namespace) -> int:
    settings = _settings()
    library = _library(args.content or args.path, settings)
    if args.category and args.category not in library.categories:
        known = ", ".join(library.categories) or "none"
        raise CommandError(f"unknown category {args.category!r} (known: {known})")
    if args.limit is not None and args.limit < 0:
        raise CommandError("--limit must be 0 (every post) or more")
    if args.html is not None or args.serve:
        return _preview_page(args, library, settings)
    limit = (10 if args.limit is None else args.limit) or len(library.posts)
    posts = library.latest(datetime.now(UTC), limit=limit, category=args.category)
    messages = [
        (
            post,
            render(
                post,
                zone=settings.zone,
                source_name=settings.site_name,
                share=settings.share_button,
            ),
        )
        for post in posts
    ]
    if args.json:
        records = [preview_record(post, message) for post, message in messages]
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    for post, message in messages:
        print(f"── {post.id} ({message.method}) " + "─" * 20)
        if message.has_photo:
            print(f"[image] {message.params['photo']}")
        print(message.text)
        if post.url:
            print(f"[Read more] {post.url}")
        print()
    print(f"{len(messages)} posts", file=sys.stderr)
    return 0


def _preview_page(args: argparse.Namespace, library: PostLibrary, settings: Settings) -> int:
    """`--html OUT.html` and/or `--serve`: every card (or the `--limit` newest), unpublished ones
    and rejected files included, in one page."""
    posts = [p for p in library.posts if args.category is None or _has(p, args.category)]
    if args.limit:
        posts = posts[: args.limit]
    page = build_page(
        posts,
        library.rejected if args.category is None else (),
        card_of=lambda post: render(
            post, zone=settings.zone, source_name=settings.site_name, share=settings.share_button
        ),
        now=datetime.now(UTC),
        zone=settings.zone,
        title=f"newsbot preview: {settings.site_name or library.root.name}",
    )
    if args.html is not None:
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.html}: {exc.strerror or exc}") from None
        print(f"wrote {args.html} ({len(posts)} cards, {len(library.rejected)} rejected)")
    if args.serve:
        serve_page(page, host=args.host, port=args.port)
    return 0


def _has(post: Post, category: str) -> bool:
    return any(c.key == category for c in post.categories)


def serve_page(page: str, *, host: str, port: int) -> None:
    """Serve the page at http://HOST:PORT/ until Ctrl-C (the address is printed first)."""
    body = page.encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.split("?")[0] in ("/", "/index.html")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # no line per request on the terminal

    try:
        server = ThreadingHTTPServer((host, port), Page)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    with server:
        print(f"serving http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


def _import(args: argparse.Namespace) -> int:
    settings = _settings()
    source: Path = args.file
    try:
        html = source.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"cannot read {source}: {exc.strerror or exc}") from None
    options = ImportOptions(
        category=args.category, url=args.url, image=args.image, language=args.language
    )
    try:
        post = import_article(html, args.content or settings.content_dir, options)
    except ArticleError as exc:
        raise CommandError(str(exc)) from None
    print(f"imported {post.id} as {post.path}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    database = location(args.database) if args.database else _settings().database
    if isinstance(database, PostgresUrl):
        raise CommandError("backup copies an SQLite file; back up PostgreSQL with pg_dump")
    try:
        done = backup(database, args.path)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(f"backed up {database} to {done.path} ({done.size} bytes, schema {done.schema_version})")
    return 0


def _migrate_db(args: argparse.Namespace) -> int:
    source, target = location(args.source), location(args.target)
    if source == target:
        raise CommandError("FROM and TO are the same database")
    if isinstance(source, Path) and not source.is_file():
        raise CommandError(f"no database at {source}")
    try:
        copied = asyncio.run(_copy(source, target, replace=args.replace))
    except Unavailable as exc:
        raise CommandError(str(exc)) from None
    rows = ", ".join(f"{table} {count}" for table, count in copied.items())
    print(f"copied {source} to {target}: {rows} (counts verified)")
    return 0


async def _copy(
    source: Path | PostgresUrl, target: Path | PostgresUrl, *, replace: bool
) -> dict[str, int]:
    origin = await open_database(source)
    try:
        destination = await open_database(target)
        try:
            return await copy_database(origin, destination, replace=replace)
        finally:
            await destination.close()
    finally:
        await origin.close()


def parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for the README's command list and the tests."""
    top = argparse.ArgumentParser(
        prog="newsbot", description="Publish a newsroom's posts to Telegram chats."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot (settings from the environment and .env)")
    run.add_argument(
        "--new-database",
        action="store_true",
        help="if the database file is empty or not newsbot's, set it aside and start a new one",
    )
    run.set_defaults(handler=_run)

    for name, handler, text in (
        ("check", _check, "list post files that cannot be loaded, and why"),
        ("preview", _preview, "show the messages the bot would send, newest first"),
    ):
        command = sub.add_parser(name, help=text)
        where = "content folder, Jekyll site root (with _config.yml), or one file"
        command.add_argument("path", nargs="?", type=Path, help=where)
        command.add_argument("--content", type=Path, help=where)
        command.set_defaults(handler=handler)
        if name == "preview":
            command.add_argument("--category", help="only this category key, e.g. world")
            command.add_argument(
                "--limit",
                type=int,
                default=None,
                help="how many (default 10, and every post for a page; 0: every post)",
            )
            command.add_argument("--json", action="store_true", help="exact Bot API calls as JSON")
            command.add_argument(
                "--html",
                type=Path,
                metavar="OUT.html",
                help="write every card as Telegram shows it into one self-contained page",
            )
            command.add_argument(
                "--serve", action="store_true", help="serve that page on a local port"
            )
            command.add_argument(
                "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)"
            )
            command.add_argument(
                "--port", type=int, default=8000, help="port to serve on (default 8000; 0: any)"
            )

    article = sub.add_parser("import", help="turn a saved HTML article into a post")
    article.add_argument("file", type=Path, help="the saved .html page")
    article.add_argument("--category", help="the post's category, e.g. WORLD")
    article.add_argument("--url", help="the article's original address")
    article.add_argument("--image", help="lead image address")
    article.add_argument("--language", help="article language code, e.g. en or th")
    article.add_argument("--content", type=Path, help="content folder to write into")
    article.set_defaults(handler=_import)

    copy = sub.add_parser("backup", help="copy the database safely, even while the bot runs")
    copy.add_argument("path", type=Path, help="the backup file, or a folder for a dated one")
    copy.add_argument("--database", help="the SQLite file (default: NEWSBOT_DATABASE)")
    copy.set_defaults(handler=_backup)

    move = sub.add_parser(
        "migrate-db",
        help="copy every chat, subscription, post and delivery to another database "
        "(SQLite file or postgresql:// URL); stop the bot first",
    )
    move.add_argument("source", metavar="FROM", help="the database copied from")
    move.add_argument("target", metavar="TO", help="the database copied to: a new or empty one")
    move.add_argument(
        "--replace", action="store_true", help="delete what the target holds before copying"
    )
    move.set_defaults(handler=_migrate_db)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsbot` console script."""
    args = parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CommandError as exc:
        print(f"newsbot {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
