from click.testing import CliRunner

import run

EXPECTED = {"init", "resolve", "crawl", "events", "indicators", "subscribe", "unsubscribe", "subscriptions",
            "digest", "schedule", "serve", "serve-unsubscribe", "demo", "status", "settings"}


def test_every_command_module_is_registered():
    # Every module of monitor/commands/ must be imported by the package, or its commands silently vanish.
    import pkgutil

    import monitor.commands as package
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - {"group"}
    assert modules and all(hasattr(package, name) for name in modules), sorted(m for m in modules
                                                                                if not hasattr(package, m))


def test_every_command_is_there_with_help_and_an_example():
    commands = run.cli.commands
    assert EXPECTED <= set(commands), sorted(EXPECTED - set(commands))
    for name, command in commands.items():
        doc = command.help or ""
        assert doc.strip().splitlines()[0].endswith("."), name
        assert "Example: python run.py" in doc, f"{name} has no example"
        result = CliRunner().invoke(run.cli, [name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


def test_unknown_source_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(run.cli, ["--db", str(tmp_path / "a.db"), "--private-db", str(tmp_path / "p.db"),
                                          "crawl", "no_such_source"])
    assert result.exit_code == 2
    assert "unknown source 'no_such_source'" in result.output
    assert "Traceback" not in result.output
