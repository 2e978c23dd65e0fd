"""The sources, one folder each (docs/adding-a-source.md); Scrapy finds their spiders here (SPIDER_MODULES)."""
