"""Load a province's agencies and sub-categories from a TOML file, without code edits.

    set -a; . examples/province_kaltara/province.env; set +a
    aspirasi db upgrade
    aspirasi users create-superadmin --email root@kaltaraprov.example.go.id --username root
    python examples/province_kaltara/load_province.py --as root

Acts as the given super admin through the core's public admin use cases
(``app.admin.create_entry``), so every change is
checked and audited like one made in the browser. Running it again skips what exists.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import anyio

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.errors import DomainError
from aspirasi_core.services import Aspirasi, Context
from aspirasi_core.settings import Settings

HERE = Path(__file__).resolve().parent


async def load(app: Aspirasi, superadmin: str, data: dict) -> list[str]:  # type: ignore[type-arg]
    account = app.deps.db.run_sync(lambda uow: uow.accounts.find_by_login(superadmin), write=False)
    if account is None:
        raise SystemExit(
            f"no account {superadmin!r}: create it with `aspirasi users create-superadmin`"
        )
    ctx = Context(actor=account.actor())
    done: list[str] = []

    existing = {a.code for a in await app.admin.agencies(ctx, include_inactive=True)}
    for agency in data.get("agencies", []):
        if agency["code"] not in existing:
            await app.admin.create_entry(ctx, "agency", code=agency["code"], name=agency["name"])
            done.append(f"agency {agency['code']}")

    categories = {c.code: c for c in await app.admin.categories()}
    for category_code, subs in data.get("subcategories", {}).items():
        category = categories.get(category_code)
        if category is None:
            raise SystemExit(f"unknown category {category_code!r} (known: {', '.join(categories)})")
        present = {
            s.code for s in await app.admin.subcategories(category.id, include_inactive=True)
        }
        for sub in subs:
            if sub["code"] not in present:
                await app.admin.create_entry(
                    ctx, "subcategory", category_id=category.id, code=sub["code"], name=sub["name"]
                )
                done.append(f"sub-category {category_code}/{sub['code']}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as", dest="superadmin", required=True, help="super admin username")
    parser.add_argument("--data", type=Path, default=HERE / "province.toml")
    args = parser.parse_args(argv)
    data = tomllib.loads(args.data.read_text(encoding="utf-8"))

    settings = Settings.from_env()  # ASPIRASI_* variables, e.g. from province.env
    settings.check_production()
    app = bootstrap(settings)
    try:
        done = anyio.run(load, app, args.superadmin, data)
    except DomainError as exc:
        print(f"refused: {exc.render()}", file=sys.stderr)
        return 1
    finally:
        app.deps.db.dispose()
    for line in done:
        print(f"created {line}")
    print(f"{len(done)} created; {settings.province_name} is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
