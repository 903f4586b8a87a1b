"""Scrapy settings for acewatch's spiders: the one place crawl behaviour is set.

`crawler.run` overrides the site URLs, identity and limits from acewatch's
config; everything else is fixed here so every crawl behaves the same.
"""

BOT_NAME = "acewatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "acewatch/0.1 (+https://github.com/acewatch/acewatch; catalog change monitor)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# Scrapy 2.19 creates this many asyncio tasks per response; 10 made a
# link-following crawl 1.7x faster on this machine (337 vs 195 pages/s, 2,040 pages).
CONCURRENT_ITEMS = 10
# Scrapy's check for `return value` in generator callbacks re-reads and re-parses the callback's
# source (inspect + ast) for nearly every response: its cache is keyed by the bound method,
# a new object per request. It was 5 % of a crawl; it only ever logs a lint-style warning.
WARN_ON_GENERATOR_RETURN_VALUE = False
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5

# On for the real hosts; crawler.run turns it off for loopback fixture sites.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# No duplicate filter: the spiders ask for each page once themselves (exhibits by cid, programs
# by id, API pages by offset). Scrapy's filter would silently drop a request redirected back to
# a URL already fetched (a redirect loop), with neither callback nor errback: a page that never
# answers would then read as an exhibit or program that disappeared. Without it such a request
# ends in "max redirections reached", reaches the errback and is stored as `unknown`.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Conditional re-fetches (crawler/cache.py): on when the spec names a cache directory ([crawl] cache_dir).
HTTPCACHE_ENABLED = False
HTTPCACHE_POLICY = "crawler.cache.ConditionalPolicy"
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
HTTPCACHE_GZIP = True
HTTPCACHE_EXPIRATION_SECS = 0  # entries never expire: each is revalidated instead
# Coursera answers `no-store`: this private cache keeps pages anyway (their content is in the snapshot
# already) so that they can be revalidated; `no-cache` changes nothing, every page is revalidated.
HTTPCACHE_IGNORE_RESPONSE_CACHE_CONTROLS = ["no-store", "no-cache"]
ACEWATCH_FULL_FETCH = True  # fetch every page whole (the weekly night; also with no cache)
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

ITEM_PIPELINES = {"crawler.pipelines.SnapshotPipeline": 300}
# Exhibit and program pages are parsed in a worker process on another core, closest to the
# engine (after retries and redirects); the spiders get the same answers (crawler/parsing/offload.py).
DOWNLOADER_MIDDLEWARES = {
    "crawler.parsing.offload.ParseAheadMiddleware": 10,
    # Scrapy's own lets requests that waited for robots.txt through (crawler/middlewares.py)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.StrictRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "crawler.cache.ConditionalCacheMiddleware": 900,
}
ACEWATCH_PARSE_WORKERS = "auto"  # "auto": 1 with 2+ CPUs, else 0 (parse in the reactor thread)
EXTENSIONS = {"crawler.progress.CrawlProgress": 500}

LOG_LEVEL = "WARNING"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# acewatch's own settings (set by crawler.run or `-s` on the command line).
ACEWATCH_DB = None  # SQLAlchemy URL of the store
ACEWATCH_RUN_IDS = {}  # {"ace": run_id, ...}: runs begun by the monitor
ACEWATCH_PROGRESS = "auto"  # "auto" (a bar on a terminal), "bar", "log", "off"
ACE_BASE_URL = "https://www.acenet.edu"
ACE_ORGANIZATIONS = []  # organization GUIDs (Organization.aspx?oid=...)
ACEWATCH_RENDER = "never"  # "never" | "auto" | "always" ([crawl] render; crawler/rendering.py)
ACEWATCH_RENDER_TIMEOUT = 60.0
ACEWATCH_RENDER_CONCURRENCY = 2
ACEWATCH_CHROMIUM = ""  # Chromium's path; "" = chromium on PATH
ACE_EXHIBITS = []  # exhibit URLs tracked directly ([ace] exhibits), listed or not
ACE_KNOWN_EXHIBITS = []  # exhibit URLs of the last healthy snapshot, re-checked if unlisted
ACE_WAITING_EXHIBITS = []  # of those, the ones already unlisted with gone-evidence then (confirmed now)
COURSERA_API_URL = "https://api.coursera.org/api/"
COURSERA_SITE_URL = "https://www.coursera.org"
COURSERA_PAGE_SIZE = 100
COURSERA_DISCOVERY = "sitemap"  # or "api" (only where robots.txt permits /api/)
