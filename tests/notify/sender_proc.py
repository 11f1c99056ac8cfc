"""The webhook sender as a process of its own, for the test that kills it mid-flight and starts it again."""

import asyncio
import sys

from app.config import load_settings
from app.context import AppContext
from app.notify.webhooks import deliver_due


async def main() -> None:
    ctx = AppContext.create(load_settings())
    schedule = tuple(float(x) for x in sys.argv[1].split(","))
    while True:
        await deliver_due(ctx, schedule=schedule)
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main())
