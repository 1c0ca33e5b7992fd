"""The browsable OpenAPI page at ``/schema``: Swagger UI from the vendored
assets (no CDN), started by a static script (the CSP forbids inline script)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

SWAGGER = "/static/vendor/swagger-ui-5.35.0"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="/schema/openapi.json"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="{swagger}/swagger-ui-standalone-preset.js"></script>
<script src="/static/js/swagger-init.js"></script>
</body>
</html>
"""


class SwaggerPage(OpenAPIRenderPlugin):
    """Serves the Swagger UI page at the schema root (``/schema``)."""

    def __init__(self, path: str | list[str] = "/") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = str(openapi_schema.get("info", {}).get("title", "API"))
        safe = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return PAGE.format(title=safe, swagger=SWAGGER).encode()


#: Security scheme of the API: ``Authorization: Bearer <token>`` from /api/v1/auth/login.
COMPONENTS = Components(
    security_schemes={
        "bearer": SecurityScheme(
            type="http",
            scheme="bearer",
            description="The token of POST /api/v1/auth/login.",
        )
    }
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
