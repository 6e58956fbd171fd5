"""Run the emulator on its own: ``python -m sandbox [--port 8765] [--shards 2]``.

It serves the default world (guild "Sandbox" with #general, #mod-log, members owner, mod, alice
and bob) and prints the environment variables that point a bot at it. With ``--shards N`` it
recommends N shards and adds a guild "Shard n" on each shard after the first. A bot pointed at it
follows its clock (``/sandbox/clock``). This is the seed of the no-token try-out mode; for now
members can only be driven, and time moved, from Python (``Emulator.driver``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from sandbox.model import World
from sandbox.server import Emulator


async def serve(host: str, port: int, shards: int) -> None:
    world = World.sharded(shards) if shards > 1 else World.default()
    async with Emulator(world, host=host, port=port, shards=shards) as emulator:
        print("Local Discord emulator running. Point the bot at it with:")
        for key, value in emulator.bot_env().items():
            print(f"  export {key}={value}")
        print("Ctrl-C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="only loopback makes sense here")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--shards",
        type=int,
        default=1,
        help="the shard count GET /gateway/bot recommends; above 1, a guild is added per shard",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(args.host, args.port, args.shards))


if __name__ == "__main__":
    main()
