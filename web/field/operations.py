"""The declared operations of ``/api/v1/field`` (joined into ``web.api.operations``)."""

from web.api.contract import Operation
from web.api.schemas import PhotoAnswer
from web.field import schemas as field

# The photos API's multipart part (``web.api.operations`` joins this table, so cannot be imported)
PHOTO_PART = {"type": "string", "format": "binary"}
PHOTO_UPLOAD = {
    "multipart/form-data": {
        "schema": {"type": "object", "required": ["photo"], "properties": {"photo": PHOTO_PART}}
    }
}

FIELD = {
    "field_api.send_change": Operation(
        "Send one change recorded on a phone (add_plant, edit_plant, inspect, remove); applied "
        "once per UUID, a replay answers the stored result (Idempotent-Replayed: true); a stale "
        "base_version is 409 with the server's values (current) and the phone's (yours)",
        body=field.FieldChangeInput,
        answer=field.FieldChangeAnswer,
    ),
    "field_api.received": Operation(
        "Which of these change UUIDs the server has applied (yours only)",
        query=field.ReceivedQuery,
        answer=field.Received,
        errors=(400, 401, 403, 422, 503),
    ),
    "field_api.send_photo": Operation(
        "A photo of a sent change's plant, kept once per photo UUID (resume: send it again)",
        upload=PHOTO_UPLOAD,
        answer=PhotoAnswer,
    ),
    "field_api.area": Operation(
        "A work area's plants and green spaces for offline use (count_only: its size first); "
        "refused (413) beyond JASYL_FIELD_AREA_MAX_PLANTS",
        query=field.AreaQuery,
        answer=field.FieldArea,
        errors=(400, 401, 403, 404, 413, 422, 503),
    ),
}
