"""python -m demodata [--url http://127.0.0.1:8000] [--wait SECONDS]

Loads the demo data through the gateway, then prints a short banner (the URLs to open and the
logins to try) for the person who started ``make run``.
"""
import argparse
import sys

import yaml

from backbone import config
from backbone.logs import configure_logging
from demodata import expo, marketplace, registry
from demodata.client import ApiError, Gateway

LOADERS = (registry, expo, marketplace)
ROLES = (("organizer", "organizers"), ("vendor", "vendors"), ("buyer", "buyers"))


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
    print(banner(args.url, yaml.safe_load(registry.DATA.read_text())), flush=True)
    return 0


def banner(url, demo):
    """What to open and who to log in as; ``demo`` is the registry's demo data."""
    base = url.rstrip("/")
    lines = ["", "Laris is ready, with its demo data.",
             f"  web pages  {base}/  (Bahasa Indonesia; ?lang=en for English)",
             f"  API        {base}/api/v1",
             f"  API docs   {base}/api/v1/docs",
             f"  readiness  {base}/readyz",
             f"  admin      {_admin()}",
             f"  demo logins, password {demo['password']}:"]
    for role, key in ROLES:
        accounts = demo.get(key, [])
        if accounts:
            more = f" (and {len(accounts) - 1} more)" if len(accounts) > 1 else ""
            lines.append(f"    {role:<10} {accounts[0]['email']}{more}")
    return "\n".join(lines + [""])


def _admin():
    email, password = config.env("LARIS_ADMIN_EMAIL"), config.env("LARIS_ADMIN_PASSWORD")
    if not (email and password):
        return "none: LARIS_ADMIN_EMAIL/LARIS_ADMIN_PASSWORD unset"
    return f"{email} / {password}"


if __name__ == "__main__":
    sys.exit(main())
