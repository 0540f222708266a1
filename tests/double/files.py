"""Photos and files: uploads, photo URLs Telegram fetches, file ids and downloads.

A photo is accepted as an upload, as a `file_id` Telegram gave before (reused, not uploaded
again), or as an HTTP URL Telegram fetches itself. URLs under the double's own `/files/` are
really fetched from what a test serves with `serve_file`, so an image host that is slow, missing
or serving something that is not an image behaves as it would for Telegram; other URLs are
assumed to be images. Bytes are checked to look like an image unless `check_image_bytes` is off.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass

from aiohttp import web

from tests.double.state import DoubleState
from tests.double.wire import ApiError, Call, JSONDict, UploadedFile, bad_request

PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
PHOTO_URL_LIMIT = 5 * 1024 * 1024
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_PHOTO_SIZES = ((90, 51), (320, 180), (800, 450))


@dataclass
class _StoredPhoto:
    sizes: list[JSONDict]
    data: bytes | None


class FilesMixin(DoubleState):
    """Photos the bot sent, files a test serves, and the routes that hand them out."""

    #: Refuse uploads and fetched URLs whose bytes do not start like an image.
    check_image_bytes: bool

    def __init__(self) -> None:
        """No photos known and nothing served yet."""
        super().__init__()
        self.unfetchable_urls: set[str] = set()
        #: Seconds before a served file is answered, as from a slow image host.
        self.served_delay = 0.0
        self.served_hits: dict[str, int] = {}
        self._photos: dict[str, _StoredPhoto] = {}
        self._file_paths: dict[str, str] = {}
        self._served: dict[str, tuple[bytes, str]] = {}

    def serve_file(
        self, path: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> str:
        """Serves ``body`` at ``/files/<path>`` so the bot can download from loopback."""
        key = path.lstrip("/")
        self._served[key] = (body, content_type)
        return f"{self.url}/files/{key}"

    def _check_photo(
        self, value: object, params: JSONDict
    ) -> tuple[list[JSONDict] | None, bytes | None]:
        """Resolves a photo input without side effects: (existing sizes, new bytes)."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > PHOTO_UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            if self.check_image_bytes and not looks_like_image(value.data):
                raise bad_request("IMAGE_PROCESS_FAILED")
            return None, value.data
        if not isinstance(value, str) or not value:
            raise bad_request("there is no photo in the request")
        if value in self._photos:
            return self._photos[value].sizes, None
        if value.startswith(("http://", "https://")):
            return None, self._fetch_photo_url(value)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _fetch_photo_url(self, url: str) -> bytes | None:
        """Emulates Telegram fetching a photo URL; only loopback /files/ URLs are real."""
        if url in self.unfetchable_urls or "unfetchable" in url:
            raise bad_request("wrong type of the web page content")
        prefix = f"{self.url}/files/"
        if not url.startswith(prefix):
            return None  # a public URL: assume Telegram fetched an image
        key = url.removeprefix(prefix).split("?", 1)[0]
        self.served_hits[key] = self.served_hits.get(key, 0) + 1
        if key not in self._served:
            raise bad_request("failed to get HTTP URL content")
        body, content_type = self._served[key]
        if not content_type.startswith("image/") or len(body) > PHOTO_URL_LIMIT:
            raise bad_request("wrong type of the web page content")
        if self.check_image_bytes and not looks_like_image(body):
            raise bad_request("IMAGE_PROCESS_FAILED")
        return body

    def _photo_sizes(self, existing: list[JSONDict] | None, data: bytes | None) -> list[JSONDict]:
        """Reuses known sizes or mints new file ids (one per size, like Telegram)."""
        if existing is not None:
            return copy.deepcopy(existing)
        number = next(self._ids)
        sizes: list[JSONDict] = []
        for index, (width, height) in enumerate(_PHOTO_SIZES):
            size: JSONDict = {
                "file_id": f"AgACAgIAAxkDdbl{number:06d}{index}",
                "file_unique_id": f"AQADdbl{number:06d}{index}",
                "width": width,
                "height": height,
            }
            if data is not None:
                size["file_size"] = len(data)
            sizes.append(size)
        stored = _StoredPhoto(sizes, data)
        for size in sizes:
            self._photos[size["file_id"]] = stored
        return copy.deepcopy(sizes)

    async def _get_file(self, call: Call) -> JSONDict:
        file_id = str(call.params.get("file_id", ""))
        photo = self._photos.get(file_id)
        if photo is None:
            raise bad_request("invalid file_id")
        size = next(s for s in photo.sizes if s["file_id"] == file_id)
        path = f"photos/{size['file_unique_id']}.jpg"
        self._file_paths[path] = file_id
        result: JSONDict = {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_path": path,
        }
        if photo.data is not None:
            result["file_size"] = len(photo.data)
        return result

    async def _handle_served_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.served_hits[path] = self.served_hits.get(path, 0) + 1
        if self.served_delay:
            await asyncio.sleep(self.served_delay)
        if path not in self._served:
            return web.Response(status=404, text="Not Found")
        body, content_type = self._served[path]
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        file_id = self._file_paths.get(request.match_info["path"])
        photo = self._photos.get(file_id) if file_id else None
        if photo is None or photo.data is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=photo.data, content_type="image/jpeg")


def looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
