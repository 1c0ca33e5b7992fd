"""The bundled Aspirasi web application on Litestar.

``create_app()`` (in :mod:`aspirasi_web.app`) is the composition root: it reads
the settings, wires the core use cases and the plugins, and returns a Litestar
application serving the HTML pages and the JSON API (``/api/v1``).
"""
