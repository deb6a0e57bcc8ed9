"""The one place that reads the clock. Laris's local time is Asia/Jakarta (WIB)."""
import datetime as dt
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def now():
    return dt.datetime.now(dt.timezone.utc)


def today_wib():
    return now().astimezone(WIB).date()
