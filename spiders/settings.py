"""Scrapy settings: polite defaults for crawling public sources. The crawl runner adds LBM_DB, LBM_CRAWL_ID,
LBM_NOW and LBM_SETTINGS; under a plain `scrapy crawl` give at least `-s LBM_DB=leftbehind.db`."""

import os

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "leftbehind"
# LBM_SPIDER_MODULES (comma-separated) adds spider modules kept outside the repository.
SPIDER_MODULES = ["spiders.sources", *filter(None, os.environ.get("LBM_SPIDER_MODULES", "").replace(" ", "").split(","))]
NEWSPIDER_MODULE = "spiders.sources"

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1        # one request at a time per host
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# The crawl child sets these three from the monitor's settings download_timeout, response_max_mb and download_max_mb.
DOWNLOAD_TIMEOUT = 300                     # a whole download, connecting to last byte
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024       # a body held in memory, counted after decoding as well as before
LBM_FILE_MAXSIZE = 1024 * 1024 * 1024      # a file streamed to disk, decoded (some 360Giving files are 100s of MB)
DOWNLOAD_WARNSIZE = 0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
HTTPCACHE_ENABLED = False                  # never in production: a cached page would hide a closure or a failure
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's remote control (from 2.19) serves a localhost HTTP endpoint that runs Python sent to it, in every crawl
# process: nothing here uses it. Left out of the base list, not just set to None, because Scrapy imports every
# listed extension, and its aiohttp server was a tenth of a crawl process's start.
EXTENSIONS_BASE = {name: order for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
                   if not name.endswith((".RemoteControl", ".TelnetConsole"))}
EXTENSIONS = {"spiders.item_errors.ItemErrors": 0}   # a record lost to a pipeline error makes the crawl unhealthy
LOG_LEVEL = "WARNING"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

# Only http(s) is fetched: Scrapy's file, data, ftp and s3 handlers are off, and the fetch policy refuses other
# schemes and private addresses before any handler runs (spiders/fetch_policy.py), redirects included.
LOCAL_HANDLERS_OFF = {"file": None, "data": None, "ftp": None, "s3": None}
DOWNLOAD_HANDLERS = dict(LOCAL_HANDLERS_OFF)
# A file unchanged since the last good crawl is asked for conditionally, or caught by its hash (conditional_get.py).
DOWNLOADER_MIDDLEWARES = {"spiders.fetch_policy.FetchPolicyMiddleware": 50,
                          "spiders.conditional_get.ConditionalGetMiddleware": 60}
LBM_ALLOW_PRIVATE_ADDRESSES = False

# files' state (conditional GET) -> skip unchanged input (build the rest) -> library identity -> normalise ->
# link news to places -> validate -> (batched) geo-match -> store. Gaps leave room for more steps.
ITEM_PIPELINES = {
    "spiders.pipelines.file_state.FileStatePipeline": 40,
    "spiders.pipelines.unchanged.UnchangedPipeline": 45,
    "spiders.pipelines.normalise.NormalisePipeline": 100,
    "spiders.pipelines.validate.ValidatePipeline": 200,
    "spiders.pipelines.batch.BatchPipeline": 300,
}
# The pipelines are synchronous, so items gain nothing from being processed in parallel; and a large file's
# spider yields Batch objects of hundreds of records, so many in flight would hold the file in memory.
CONCURRENT_ITEMS = 4
# Items go to the database in batches: points are resolved in one vectorised call, postcodes 100 at a time, and
# each batch is one transaction. Records are inserted in the order the source lists them, but their ids, dates and
# wards are not in that order: every transaction rewrites most of the index pages it touches, so fewer, larger
# ones write far less (measured on 200,000 grants: 10,000 a transaction took 0.75 the time of 2,000).
LBM_BATCH_SIZE = 10000
