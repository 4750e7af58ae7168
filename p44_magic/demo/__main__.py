"""``python -m p44_magic.demo [--port N] [--token-lifetime S] [--latency S]``: serve till Ctrl-C.

The base URL and credentials are printed so a notebook or ``curl`` can log in.
"""

from __future__ import annotations

import argparse
import threading

from .server import DemoServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m p44_magic.demo", description="Serve the p44_magic demo API on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=43200.0,
        metavar="S",
        help="seconds an access token stays valid (default: 43200)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds to wait before answering each data request",
    )
    args = parser.parse_args(argv)

    server = DemoServer(
        port=args.port, token_lifetime=args.token_lifetime, latency=args.latency
    ).start()
    print(
        f"p44_magic demo API on {server.base_url}  client id: {server.client_id}  "
        f"client secret: {server.client_secret}",
        flush=True,
    )
    print(
        "In a notebook, `%p44_login --env demo` starts a demo server inside the kernel; to use "
        f"this one: `%p44_login --base-url {server.base_url} --client-id {server.client_id}` "
        "with the secret above. Ctrl-C stops it.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
