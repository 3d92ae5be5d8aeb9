"""Plant photos: upload (JSON API and the plant card's form), list, and the image files.

``POST /api/v1/plants/<id>/photos`` (multipart, field ``photo``) and the card's form at
``POST /photos/plants/<id>`` store a photo; ``GET /api/v1/plants/<id>/photos`` lists them;
``/photos/<id>`` and ``/photos/<id>/thumbnail`` send the image. The services decide who may add
(the plant's region's forester) and who may see (whoever may see the plant).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request, send_file, url_for

from registry.access import require_signed_in, sees_internal_fields
from registry.errors import InvalidValue, NotFound
from registry.photos import services
from registry.photos.models import PlantPhoto
from registry.photos.rules import MAX_PHOTO_BYTES
from web.actors import current_actor
from web.bounds import body_limit
from web.db import request_session

bp = Blueprint("photos", __name__, url_prefix="/photos")
api = Blueprint("photos_api", __name__, url_prefix="/api/v1")
PHOTO_REQUEST_BYTES = MAX_PHOTO_BYTES + 1024 * 1024  # the photo and its multipart wrapping


def uploads() -> Path:
    """The uploads folder of the configured data dir (``JASYL_HOME/uploads``, backed up)."""
    return current_app.config.get("UPLOADS_DIR") or current_app.config["JASYL_SETTINGS"].uploads_dir


def sent_photo() -> tuple[bytes, str]:
    """The ``photo`` file of a multipart request, read no further than the size limit (+1, so
    the rule can tell "too large")."""
    upload = request.files.get("photo")
    if upload is None:
        raise InvalidValue("photo", "is missing: send the image as multipart field 'photo'")
    return upload.stream.read(MAX_PHOTO_BYTES + 1), upload.filename or ""


def photo_view(photo: PlantPhoto) -> dict[str, Any]:
    return {
        "id": photo.id,
        "plant_id": photo.plant_id,
        "content_type": photo.content_type,
        "file_name": photo.original_name,
        "size_bytes": photo.size_bytes,
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at.isoformat() if photo.created_at else None,
        "url": url_for("photos.image", photo_id=photo.id),
        "thumbnail_url": url_for("photos.thumbnail", photo_id=photo.id),
    }


def _store(plant_id: int) -> dict[str, Any]:
    actor = current_actor()
    with request_session() as session:
        require_signed_in(session, actor, "add a photo to", "plant")
        data, name = sent_photo()
        photo = services.add_photo(session, actor, plant_id, data, name, uploads())
        session.flush()
        session.refresh(photo)
        return photo_view(photo)


@api.post("/plants/<int:plant_id>/photos")
@body_limit(PHOTO_REQUEST_BYTES)
def add_photo(plant_id: int):
    return jsonify(_store(plant_id)), 201


@api.get("/plants/<int:plant_id>/photos")
def photos(plant_id: int):
    with request_session() as session:
        found = services.photos_of(session, current_actor(), plant_id)
        return jsonify({"items": [photo_view(p) for p in found]})


@bp.post("/plants/<int:plant_id>")
@body_limit(PHOTO_REQUEST_BYTES)
def upload_from_card(plant_id: int):
    """The plant card's form: store, then back to the map with the plant's card open."""
    _store(plant_id)
    return redirect(url_for("map.index", plant=plant_id))


def _send(photo_id: int, thumbnail: bool) -> Response:
    actor = current_actor()
    with request_session() as session:
        photo = services.get_photo(session, actor, photo_id)
        relative = photo.relative_thumbnail if thumbnail else photo.relative_path
        kind = "image/jpeg" if thumbnail else photo.content_type
    path = uploads() / relative
    if not path.is_file():
        raise NotFound(f"photo {photo_id}: its file is missing on the server", id=photo_id)
    response = send_file(path, mimetype=kind, max_age=300, etag=True, conditional=True)
    response.cache_control.public = not sees_internal_fields(actor)
    response.cache_control.private = sees_internal_fields(actor)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("Cookie")
    return response


@bp.get("/<int:photo_id>")
def image(photo_id: int) -> Response:
    return _send(photo_id, thumbnail=False)


@bp.get("/<int:photo_id>/thumbnail")
def thumbnail(photo_id: int) -> Response:
    return _send(photo_id, thumbnail=True)
