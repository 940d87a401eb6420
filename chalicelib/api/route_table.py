"""The API's routes, as their modules declare them: written by `make routes`, never by
hand (`api/lazy.py`; tests/infra/test_route_table.py fails while it is stale).
"""

# ruff: noqa: E501  (one route a line)
from chalicelib.api.lazy import RouteSpec

# fmt: off
ROUTES = (
    RouteSpec("/catalog", "GET", "chalicelib.api.reference", "get_catalog"),
    RouteSpec("/contact", "GET", "chalicelib.api.reference", "get_contact"),
    RouteSpec("/me", "GET", "chalicelib.api.members", "get_me"),
    RouteSpec("/me/beneficiaries", "GET", "chalicelib.api.members", "get_my_beneficiaries"),
    RouteSpec("/me/preferences", "GET", "chalicelib.api.members", "get_my_preferences"),
    RouteSpec("/me/preferences", "PUT", "chalicelib.api.members", "put_my_preferences"),
    RouteSpec("/me/access-log", "GET", "chalicelib.api.privacy", "access_log"),
    RouteSpec("/me/exports", "POST", "chalicelib.api.exports", "start_export"),
    RouteSpec("/me/exports/{export_id}", "GET", "chalicelib.api.exports", "export_status"),
    RouteSpec("/professionals", "GET", "chalicelib.api.professionals", "search_professionals"),
    RouteSpec("/requests", "POST", "chalicelib.api.requests", "file_request"),
    RouteSpec("/requests", "GET", "chalicelib.api.requests", "timeline"),
    RouteSpec("/requests/{request_id}", "GET", "chalicelib.api.requests", "request_detail"),
    RouteSpec("/requests/{request_id}/attachments/{attachment_id}", "GET", "chalicelib.api.requests", "download_attachment"),
    RouteSpec("/requests/{request_id}/replies", "POST", "chalicelib.api.requests", "reply"),
    RouteSpec("/requests/{request_id}/withdrawal", "POST", "chalicelib.api.requests", "withdraw"),
    RouteSpec("/uploads", "POST", "chalicelib.api.uploads", "create_upload"),
    RouteSpec("/documents", "GET", "chalicelib.api.documents", "list_documents"),
    RouteSpec("/documents/{document_id}/download", "GET", "chalicelib.api.documents", "download_document"),
    RouteSpec("/backoffice/services/{service}/requests", "GET", "chalicelib.api.backoffice", "work_list"),
    RouteSpec("/backoffice/members/{member_id}/requests/{request_id}", "GET", "chalicelib.api.backoffice", "agent_detail"),
    RouteSpec("/backoffice/members/{member_id}/requests/{request_id}/documents/{document_id}/download", "GET", "chalicelib.api.backoffice", "agent_letter"),
    RouteSpec("/backoffice/members/{member_id}/requests/{request_id}/decision", "POST", "chalicelib.api.backoffice", "decide"),
    RouteSpec("/backoffice/members/{member_id}/requests/{request_id}/information-request", "POST", "chalicelib.api.backoffice", "information_request"),
    RouteSpec("/backoffice/members/{member_id}/requests/{request_id}/reclassification", "POST", "chalicelib.api.backoffice", "reclassification"),
    RouteSpec("/openapi.json", "GET", "chalicelib.api.openapi", "openapi_document_view", public=True),
)
# fmt: on
