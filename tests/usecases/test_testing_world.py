"""aspirasi_core.testing's world: accounts of each role, and drive() takes a
message to every status the way people do."""

from __future__ import annotations

import pytest

from aspirasi_core.domain.model import Role, Status
from aspirasi_core.testing import FakeClock, World

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "to",
    [
        Status.SUBMITTED,
        Status.FORWARDED,
        Status.IN_PROGRESS,
        Status.DONE,
        Status.REJECTED,
        Status.WITHDRAWN,
    ],
)
async def test_drive_reaches_the_status(world: World, to: Status) -> None:
    message = await world.drive(to, agency="dinkes")
    assert message.status is to
    if to in (Status.FORWARDED, Status.IN_PROGRESS, Status.DONE):
        assert message.agency_id == world.agencies["dinkes"]


async def test_the_world_has_an_account_of_each_role(world: World, clock: FakeClock) -> None:
    roles = {account.role for account in world.accounts.values()}
    assert roles == {Role.SUPER_ADMIN, Role.ADMIN, Role.OPERATOR, Role.USER}
    assert world.clock is clock
    before = clock.now()
    clock.advance(hours=2)
    assert (clock.now() - before).total_seconds() == clock.time() - before.timestamp() == 7200
    assert world.aspirasi.clock.now() == clock.now()
