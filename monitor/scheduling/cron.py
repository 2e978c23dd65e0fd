"""A job's cron expression, from the settings, as an APScheduler trigger that means what cron means."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from core.errors import ConfigError
from spiders import registry


def cron_of(settings: dict, name: str) -> str:
    """Return the cron expression of a job (outbox retries every 15 minutes unless configured)."""
    found = registry.cron(settings, name)
    if found:
        return found
    if name == "outbox":
        return "*/15 * * * *"
    raise ConfigError(f"no schedule for job {name!r}: add it to the [schedule] table")


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_days_as_names(expr: str) -> str:
    """Rewrite cron's numeric day-of-week (0 or 7 = Sunday) as names: APScheduler 3 counts 0 as Monday."""
    fields = expr.split()
    if len(fields) != 5:
        raise ConfigError(f"a cron expression has 5 fields (minute hour day month day-of-week): {expr!r}")
    parts = []
    for part in fields[4].split(","):
        base, slash, step = part.partition("/")
        if base.replace("-", "").isdigit():
            try:
                base = "-".join(_DAY_NAMES[int(n)] for n in base.split("-"))
            except IndexError:
                raise ConfigError(f"day of week out of range in {expr!r}") from None
        parts.append(base + slash + step)
    return " ".join(fields[:4] + [",".join(parts)])


def cron_trigger(settings: dict, name: str, tz: ZoneInfo) -> CronTrigger:
    """Return the trigger of a job in a time zone; raise ConfigError on a bad expression."""
    expr = cron_of(settings, name)
    try:
        return CronTrigger.from_crontab(crontab_days_as_names(expr), timezone=tz)
    except ValueError as e:
        raise ConfigError(f"bad cron expression for {name!r}: {expr!r} ({e})") from None
