"""The layers point one way and no modules import each other: import-linter's contracts (pyproject.toml) and grimp."""
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "db", "geo", "spiders", "monitor")


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_imports_one_that_imports_it_back():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain:
                cycles.add(" -> ".join((module, *chain)))
    assert not cycles, "\n".join(sorted(cycles))


def test_a_sources_own_pipelines_run_in_its_crawls_only():
    from scrapy.crawler import Crawler
    from scrapy.utils.conf import build_component_list

    from spiders.registry import scrapy_settings, spider_loader

    def pipelines(source: str) -> list[str]:
        crawler = Crawler(spider_loader().load(source), scrapy_settings())
        return build_component_list(crawler.settings.get_component_priority_dict_with_base("ITEM_PIPELINES"))

    assert not [p for p in scrapy_settings().getdict("ITEM_PIPELINES") if p.startswith("spiders.sources.")]
    identity, links = ("spiders.sources.libraries.pipelines.LibraryIdentityPipeline",
                       "spiders.sources.library_news.pipelines.NewsLinksPipeline")
    libraries = pipelines("libraries")
    # identity (50) after the file's unchanged check (45), before the shared normalise (100)
    assert libraries.index("spiders.pipelines.unchanged.UnchangedPipeline") < libraries.index(identity) \
        < libraries.index("spiders.pipelines.normalise.NormalisePipeline")
    assert links in pipelines("library_news") and links not in libraries
    assert identity not in pipelines("fhrs_pubs") and links not in pipelines("threesixty_giving")
