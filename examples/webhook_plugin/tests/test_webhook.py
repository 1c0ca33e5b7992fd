import pytest

from aspirasi_core.domain.model import Status

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("to", "calls"), [(Status.DONE, 1), (Status.IN_PROGRESS, 0)])
async def test_a_closed_message_queues_one_webhook_call(world, to, calls):
    message = await world.drive(to)
    items = [i for i in await world.app.outbox.list("pending") if i.topic == "webhook"]
    assert [i.payload["ticket"] for i in items] == [message.ticket] * calls
