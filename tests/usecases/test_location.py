"""Where it happened (issue 23.2): a message's regency, district and coordinates,
who reads which, and the staff's regency filter."""

from __future__ import annotations

import pytest

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.services import BackofficeQuery, SubmitInput

from .world import World

pytestmark = pytest.mark.anyio


def located(subject: str, **location: object) -> SubmitInput:
    return SubmitInput(subject, "Jalan di depan pasar berlubang.", **location)  # type: ignore[arg-type]


async def test_a_located_message_is_stored_and_read_by_the_staff_only_with_its_coordinates(
    world: World,
) -> None:
    app = world.app
    msg = await app.messages.submit(
        world.ctx("ani"),
        located(
            "Jalan rusak",
            regency="64.72",
            district="64.72.06",
            latitude="-0.5021",
            longitude="117,1536",
        ),
    )
    assert (msg.regency_code, msg.district_code) == ("64.72", "64.72.06")
    assert (msg.latitude, msg.longitude) == (-0.5021, 117.1536)

    staff = await app.queries.message(world.ctx("admin"), msg.id)
    assert (staff.message.latitude, staff.message.longitude) == (-0.5021, 117.1536)
    # The sender reads the place back, not the coordinates.
    own = await app.queries.message(world.ctx("ani"), msg.id)
    assert (own.message.regency_code, own.message.district_code) == ("64.72", "64.72.06")
    assert (own.message.latitude, own.message.longitude) == (None, None)

    await app.messages.act(
        world.ctx("admin"),
        msg.id,
        "forward",
        category_id=world.categories["aduan"],
        subcategory_id=world.subcategories["infrastruktur"],
        agency_id=world.agencies["pupr"],
    )
    operator = await app.queries.message(world.ctx("op_pupr"), msg.id)
    assert operator.message.latitude == -0.5021
    [public] = (await app.queries.public()).items
    assert (public.regency_code, public.district_code) == ("64.72", "64.72.06")
    assert not hasattr(public, "latitude")


async def test_a_wrong_location_is_refused_field_by_field_and_nothing_is_stored(
    world: World,
) -> None:
    with pytest.raises(Invalid) as exc:
        await world.app.messages.submit(
            world.ctx("ani"),
            located("Jalan rusak", regency="64.72", district="64.71.01", latitude="-0.5"),
        )
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("district", "district_not_in_regency"),
        ("longitude", "coordinates_incomplete"),
    ]
    assert world.count("messages") == 0


async def test_a_message_without_a_location_has_none(world: World) -> None:
    msg = await world.app.messages.submit(world.ctx("ani"), located("Tanpa tempat"))
    assert (msg.regency_code, msg.district_code, msg.latitude) == (None, None, None)


async def test_the_staff_list_filters_by_regency(world: World) -> None:
    app = world.app
    samarinda = await app.messages.submit(world.ctx("ani"), located("A", regency="64.72"))
    bontang = await app.messages.submit(world.ctx("ani"), located("B", regency="64.74"))
    nowhere = await app.messages.submit(world.ctx("ani"), located("C"))
    everything = await app.queries.backoffice(world.ctx("admin"), BackofficeQuery())
    assert [m.id for m in everything.items] == [nowhere.id, bontang.id, samarinda.id]
    only = await app.queries.backoffice(world.ctx("admin"), BackofficeQuery(regency="64.72"))
    assert [m.id for m in only.items] == [samarinda.id]
    by_due = await app.queries.backoffice(
        world.ctx("admin"), BackofficeQuery(regency="64.74", sort="due")
    )
    assert [m.id for m in by_due.items] == [bontang.id]
    with pytest.raises(Invalid) as exc:
        await app.queries.backoffice(world.ctx("admin"), BackofficeQuery(regency="99.99"))
    assert exc.value.errors[0].code == "regency_unknown"


def test_a_broken_regions_file_stops_the_start(tmp_path) -> None:
    from .world import make_settings

    broken = tmp_path / "regions.csv"
    broken.write_text("code,name\n64.72.01,Palaran\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ASPIRASI_REGIONS_FILE"):
        make_settings(tmp_path, regions_file=str(broken)).check_production()
    make_settings(tmp_path).check_production()


async def test_the_senders_export_holds_the_coordinates_they_gave(world: World) -> None:
    from .test_data_rights import read_export

    await world.app.messages.submit(
        world.ctx("ani"),
        located(
            "Jalan rusak", regency="64.72", district="64.72.06", latitude=-0.5, longitude=117.1
        ),
    )
    data, _ = await read_export(world, "ani")
    assert data["messages"][0]["location"] == {
        "regency_code": "64.72",
        "district_code": "64.72.06",
        "place": "Sungai Kunjang, Kota Samarinda",
        "latitude": -0.5,
        "longitude": 117.1,
    }
