"""python -m demodata [--url http://127.0.0.1:8000] [--wait SECONDS]"""
import argparse
import sys

from backbone import config
from backbone.logs import configure_logging
from demodata import registry
from demodata.client import ApiError, Gateway

LOADERS = (registry,)


def main():
    parser = argparse.ArgumentParser(description="Load Laris's demo data through the API.")
    parser.add_argument("--url", default=f"http://127.0.0.1:{config.env('LARIS_HTTP_PORT')}")
    parser.add_argument("--wait", type=float, default=0,
                        help="wait up to this many seconds for the gateway to be ready")
    args = parser.parse_args()
    configure_logging("demodata")
    gateway = Gateway(args.url)
    try:
        if args.wait:
            gateway.wait_ready(args.wait)
        for loader in LOADERS:
            loader.load(gateway)
    except ApiError as exc:
        print(f"demo data not loaded: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
